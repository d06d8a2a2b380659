-- Migration 0014 on PostgreSQL: moving the protected rows of a customer merge.
--
-- Agents may only read concessions and override_requests (app/provisioning.py
-- PROTECTED_TABLES), yet a merge must move a customer's concessions and override
-- requests to the survivor, and an unmerge must move them back. These two SECURITY
-- DEFINER functions do that and nothing else: they take a customer_merges row (which
-- the merging agent's own transaction wrote), refuse one already undone, and move rows
-- only between that row's two customers; each writes an audit_log row (its actor is
-- the caller, session_user, set by audit_log_server_actor). The rest of the merge
-- (working tables) is done by the service itself, app/services/merge.py, which on
-- SQLite moves these two tables directly.
--
-- The merge must already have marked the merged customer (status merged,
-- merged_into_id = survivor) in the same transaction: a forged customer_merges row
-- naming two active customers moves nothing.
--
-- Return value of the merge function: the log entries app/services/merge_moves.py
-- writes for the other tables ([{table, column, rows: [[id]], unset_primary, kept}]),
-- so log_json records these moves like any other and the unmerge moves back exactly
-- the rows listed there (those still with the survivor; the service refuses first if
-- any is not).

CREATE FUNCTION rapport_merge_move_protected(p_merge_id int) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET TimeZone = 'UTC' AS $$
DECLARE
    m customer_merges%ROWTYPE;
    concession_ids jsonb;
    request_ids jsonb;
BEGIN
    SELECT * INTO m FROM customer_merges WHERE id = p_merge_id FOR UPDATE;
    IF NOT FOUND OR m.unmerged_at IS NOT NULL THEN
        RAISE EXCEPTION 'merge % does not exist or was undone', p_merge_id
            USING ERRCODE = 'P0002';
    END IF;
    PERFORM 1 FROM customers c
    WHERE c.id = m.merged_id AND c.status = 'merged' AND c.merged_into_id = m.survivor_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'customer % is not merged into %', m.merged_id, m.survivor_id
            USING ERRCODE = 'P0001';
    END IF;
    WITH moved AS (
        UPDATE override_requests SET customer_id = m.survivor_id, version = version + 1
        WHERE customer_id = m.merged_id RETURNING id
    ) SELECT coalesce(jsonb_agg(jsonb_build_array(id) ORDER BY id), '[]') INTO request_ids FROM moved;
    WITH moved AS (
        UPDATE concessions SET customer_id = m.survivor_id
        WHERE customer_id = m.merged_id RETURNING id
    ) SELECT coalesce(jsonb_agg(jsonb_build_array(id) ORDER BY id), '[]') INTO concession_ids FROM moved;
    INSERT INTO audit_log (at, actor, action, entity, entity_id, detail)
    VALUES (clock_timestamp(), session_user, 'customer.merge.protected', 'customer',
            m.survivor_id,
            json_build_object('merge_id', m.id, 'merged_id', m.merged_id,
                              'concessions', concession_ids,
                              'override_requests', request_ids));
    RETURN jsonb_build_array(
        jsonb_build_object('table', 'override_requests', 'column', 'customer_id',
                           'rows', request_ids, 'unset_primary', '[]'::jsonb, 'kept', '[]'::jsonb),
        jsonb_build_object('table', 'concessions', 'column', 'customer_id',
                           'rows', concession_ids, 'unset_primary', '[]'::jsonb, 'kept', '[]'::jsonb));
END $$;
REVOKE ALL ON FUNCTION rapport_merge_move_protected(int) FROM PUBLIC;

-- Moves back the rows the merge's log lists for the two protected tables, those still
-- with the survivor, to the merged customer. Called by the unmerge before it marks the
-- merge undone.
CREATE FUNCTION rapport_unmerge_move_protected(p_merge_id int) RETURNS int
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET TimeZone = 'UTC' AS $$
DECLARE
    m customer_merges%ROWTYPE;
    listed jsonb;
    moved_requests int;
    moved_concessions int;
BEGIN
    SELECT * INTO m FROM customer_merges WHERE id = p_merge_id FOR UPDATE;
    IF NOT FOUND OR m.unmerged_at IS NOT NULL THEN
        RAISE EXCEPTION 'merge % does not exist or was undone', p_merge_id
            USING ERRCODE = 'P0002';
    END IF;
    listed := m.log_json::jsonb -> 'moved';
    UPDATE override_requests SET customer_id = m.merged_id, version = version + 1
    WHERE customer_id = m.survivor_id AND id IN (
        SELECT (r ->> 0)::int FROM jsonb_array_elements(listed) e,
             jsonb_array_elements(e -> 'rows') r
        WHERE e ->> 'table' = 'override_requests' AND e ->> 'column' = 'customer_id');
    GET DIAGNOSTICS moved_requests = ROW_COUNT;
    UPDATE concessions SET customer_id = m.merged_id
    WHERE customer_id = m.survivor_id AND id IN (
        SELECT (r ->> 0)::int FROM jsonb_array_elements(listed) e,
             jsonb_array_elements(e -> 'rows') r
        WHERE e ->> 'table' = 'concessions' AND e ->> 'column' = 'customer_id');
    GET DIAGNOSTICS moved_concessions = ROW_COUNT;
    INSERT INTO audit_log (at, actor, action, entity, entity_id, detail)
    VALUES (clock_timestamp(), session_user, 'customer.unmerge.protected', 'customer',
            m.merged_id,
            json_build_object('merge_id', m.id, 'survivor_id', m.survivor_id,
                              'concessions', moved_concessions,
                              'override_requests', moved_requests));
    RETURN moved_requests + moved_concessions;
END $$;
REVOKE ALL ON FUNCTION rapport_unmerge_move_protected(int) FROM PUBLIC;

DO $pin$
BEGIN
    EXECUTE format('ALTER FUNCTION rapport_merge_move_protected(int) SET search_path = %I, pg_temp',
                   current_schema());
    EXECUTE format('ALTER FUNCTION rapport_unmerge_move_protected(int) SET search_path = %I, pg_temp',
                   current_schema());
END $pin$;
