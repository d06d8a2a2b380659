-- Migration 0011 on PostgreSQL: run in the migration's transaction, so every function
-- is revoked from PUBLIC before any other session can see it.
--
-- The rules are those of /docs/it-deployment.md ("What the database enforces") and of
-- app/services/authority_local.py, which applies the same ones on SQLite, step for
-- step: keep the two in the same order.
--
-- Every function here is SECURITY DEFINER: it runs as the tables' owner (rapport_owner
-- once `rapportctl db provision-roles` ran), while `session_user` stays the login that
-- called it, which is who acts, who is audited and whose authority counts. A rule that
-- refuses does not RAISE: it records the denial in audit_log (and under the
-- idempotency key) and RETURNS it, since a raise would roll the audit row back.
--
-- search_path: each function is pinned to the schema this migration runs in, then
-- pg_temp last (otherwise pg_temp is searched first and a caller's temporary table or
-- function could stand in for ours). The schema is read with current_schema() by the
-- DO block at the end rather than written as `public`: the tables are created in the
-- migrating session's current schema (Alembic names none), which is `public` unless
-- the DBA's role has another search_path, and the functions must follow the tables.
--
-- TimeZone is pinned to UTC so the timestamps in the returned jsonb and in the audit
-- rows read the same whatever the caller's session says; the budget day is computed
-- explicitly in authority_settings.budget_zone. Dates and times in the jsonb are
-- ISO-8601 (to_jsonb).
--
-- Details the contract (issue 12) leaves open, decided here; authority_local.py must
-- do the same:
-- * Outcome jsonb always carries every key (status, reason, concession_id,
--   request_id, required_role, limit_cents, remaining_budget_cents, expires_at,
--   counter_amount_cents, request_status, approvers, replayed); unused ones are null.
-- * Percentages are rounded half away from zero to 2 decimals first (Python:
--   quantize(Decimal('0.01'), ROUND_HALF_UP)); the rounded value is validated,
--   compared, stored and hashed.
-- * "Blank" means nothing but ' \t\r\n\f\v' (Python: not s.strip(' \t\r\n\f\v')).
-- * A key must be 1-64 characters, not blank, and not start with 'override-'; else
--   denied invalid (audited, not stored: there is no key to store it under). A key
--   stored by another login is key_reused even with the same parameters.
-- * Invalid also covers: type not one of the six; order_line not found, or not of
--   the customer's order (nor of p_order_id when given); policy not found. Order of
--   the checks: type, amount, reason, currency, percent, customer, case, order,
--   order_line, policy.
-- * not_staff (step 1) is audited but not stored under the key (step 2 comes after).
-- * max_percent NULL caps no percentage. The budget row's limit_cents is
--   max(daily_budget_cents, spent_cents) (an admin may lower a budget during the day).
-- * over_budget carries no required_role; other grant denials do.
-- * request's not_needed is stored under the key, not audited, and carries
--   remaining_budget_cents.
-- * decide: the caller's users.role must be supervisor or manager AND the login a
--   member of that role's own group (rapport_supervisor / rapport_manager). A comment
--   over 2000 characters is invalid. Checks of step 7 in this order: decision not
--   approve/reject/counter, comment blank (reject, counter) or too long, counter
--   amount not 0 < c < amount, then the approver's own limit (no valid row, not
--   allowed, or above it -> above_your_limit with limit_cents = their max or null).
--   The approver's limit for a counter checks the amount only.
-- * accept_counter: claims p_key in authority_actions like a grant (hash of
--   'accept_counter|<request_id>'); the concession's own key is 'override-<id>', as
--   for an approval; its percent is NULL (the amount changed). The request stays
--   'countered'. Denials: not_staff, invalid (key), not_found, not_yours,
--   not_pending (status <> countered).
-- * set_limit claims p_key (hash of 'set_limit|role|user|type|allowed|max_amount|
--   max_percent|daily_budget|period_days|max_total|valid_from|valid_until', booleans
--   'true'/'false', dates YYYY-MM-DD) after the admin check, before validation;
--   period_days must be >= 1. delete_limit refuses a role's row (invalid).
-- * Audit actions: concession.grant, concession.denied (grant), override.denied
--   (request, decide, withdraw, accept_counter), override.no_approver,
--   override.request, override.approve/reject/counter, override.decide_again,
--   override.expire, override.withdraw, override.accept_counter, authority.limit,
--   authority.limit_delete, authority.denied (set_limit, delete_limit).
-- * Denials of decide, withdraw and accept_counter carry request_id.
--
-- Careful when editing: Alembic runs this file as one SQLAlchemy text(), so a colon
-- directly followed by a letter or digit would be taken for a bind parameter (even in
-- a comment); write JSON with jsonb_build_object(...) or a space after each colon.

-- The audit actor is the server's: whoever is connected (session_user, which a
-- SECURITY DEFINER function does not change), at the server's clock. Only the table's
-- owner (the seeder and importer, who write history) may state another actor and time.
CREATE FUNCTION audit_log_server_actor() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE') THEN
        NEW.actor := session_user;
        NEW.at := clock_timestamp();
    END IF;
    RETURN NEW;
END $$;
REVOKE ALL ON FUNCTION audit_log_server_actor() FROM PUBLIC;
CREATE TRIGGER audit_log_server_actor BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_server_actor();


-- ---------------------------------------------------------------------------------
-- Internal helpers (rapport__*): granted to nobody; only the functions below, which
-- run as the owner, call them.
-- ---------------------------------------------------------------------------------

-- Who may approve what: agent 1, senior_agent 2, supervisor 3, manager 4; admin 0
-- (edits the matrix, approves nothing). app/services/authority.py ROLE_RANK.
CREATE FUNCTION rapport__rank(p_role text) RETURNS int
LANGUAGE sql IMMUTABLE SECURITY DEFINER AS $$
    SELECT CASE p_role
        WHEN 'agent' THEN 1 WHEN 'senior_agent' THEN 2
        WHEN 'supervisor' THEN 3 WHEN 'manager' THEN 4 ELSE 0 END
$$;
REVOKE ALL ON FUNCTION rapport__rank(text) FROM PUBLIC;

-- Is the login a member of the group role? A group that does not exist (a database
-- never provisioned) counts as "no", except for superusers, whom pg_has_role treats
-- as members of everything.
CREATE FUNCTION rapport__in_group(p_group text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
        RETURN true;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_group) THEN
        RETURN false;
    END IF;
    RETURN pg_has_role(session_user, p_group, 'MEMBER');
END $$;
REVOKE ALL ON FUNCTION rapport__in_group(text) FROM PUBLIC;

-- The budget day: the server's now() in authority_settings.budget_zone.
CREATE FUNCTION rapport__today() RETURNS date
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT (now() AT TIME ZONE coalesce(
        (SELECT budget_zone FROM authority_settings WHERE id = 1), 'UTC'))::date
$$;
REVOKE ALL ON FUNCTION rapport__today() FROM PUBLIC;

-- The effective limit row of (user, type) on p_day: the user's own row if valid that
-- day, else the row of the user's role if valid that day, else none.
CREATE FUNCTION rapport__limit(p_user_id int, p_role text, p_type text, p_day date)
RETURNS SETOF authority_limits
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT l.* FROM authority_limits l
    WHERE l.concession_type = p_type
      AND (l.user_id = p_user_id OR (l.user_id IS NULL AND l.role = p_role))
      AND (l.valid_from IS NULL OR l.valid_from <= p_day)
      AND (l.valid_until IS NULL OR l.valid_until >= p_day)
    ORDER BY l.user_id IS NULL
    LIMIT 1
$$;
REVOKE ALL ON FUNCTION rapport__limit(int, text, text, date) FROM PUBLIC;

-- required_role: the first of p_roles whose ROLE row for the type is valid on p_day,
-- allowed, and covers the amount and the percentage (a NULL max_percent caps nothing).
-- NULL when none does.
CREATE FUNCTION rapport__required_role(
    p_type text, p_amount_cents int, p_percent numeric, p_day date, p_roles text[]
) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT r.role FROM unnest(p_roles) WITH ORDINALITY AS r(role, n)
    WHERE EXISTS (
        SELECT 1 FROM authority_limits l
        WHERE l.role = r.role AND l.user_id IS NULL AND l.concession_type = p_type
          AND (l.valid_from IS NULL OR l.valid_from <= p_day)
          AND (l.valid_until IS NULL OR l.valid_until >= p_day)
          AND l.allowed
          AND p_amount_cents <= l.max_amount_cents
          AND (p_percent IS NULL OR l.max_percent IS NULL OR p_percent <= l.max_percent))
    ORDER BY r.n
    LIMIT 1
$$;
REVOKE ALL ON FUNCTION rapport__required_role(text, int, numeric, date, text[]) FROM PUBLIC;

-- sha256 hex of the UTF-8 text.
CREATE FUNCTION rapport__sha256(p_text text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT encode(sha256(convert_to(p_text, 'UTF8')), 'hex')
$$;
REVOKE ALL ON FUNCTION rapport__sha256(text) FROM PUBLIC;

-- params_hash of a grant or request (same formula in authority_local.py): the values
-- (action, customer, type, amount, percent, currency, case, order, order_line, policy,
-- reason) as text joined by '|', NULL as '', the percentage rounded half away from
-- zero to 2 decimals ('10.00'), then sha256 hex.
CREATE FUNCTION rapport__params_hash(
    p_action text, p_customer_id int, p_type text, p_amount_cents int, p_percent numeric,
    p_currency text, p_case_id int, p_order_id int, p_order_line_id int, p_policy_id int,
    p_reason text
) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT rapport__sha256(concat_ws('|',
        p_action,
        coalesce(p_customer_id::text, ''),
        coalesce(p_type, ''),
        coalesce(p_amount_cents::text, ''),
        coalesce(round(p_percent, 2)::text, ''),
        coalesce(p_currency, ''),
        coalesce(p_case_id::text, ''),
        coalesce(p_order_id::text, ''),
        coalesce(p_order_line_id::text, ''),
        coalesce(p_policy_id::text, ''),
        coalesce(p_reason, '')))
$$;
REVOKE ALL ON FUNCTION rapport__params_hash(text, int, text, int, numeric, text, int, int, int, int, text) FROM PUBLIC;

-- An outcome with every key of app/services/authority.py Outcome (but `message`,
-- which the service writes), overlaid with p_fields.
CREATE FUNCTION rapport__outcome(p_status text, p_fields jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE SECURITY DEFINER AS $$
    SELECT jsonb_build_object(
        'status', p_status, 'reason', NULL, 'concession_id', NULL, 'request_id', NULL,
        'required_role', NULL, 'limit_cents', NULL, 'remaining_budget_cents', NULL,
        'expires_at', NULL, 'counter_amount_cents', NULL, 'request_status', NULL,
        'approvers', NULL, 'replayed', false
    ) || coalesce(p_fields, '{}'::jsonb)
$$;
REVOKE ALL ON FUNCTION rapport__outcome(text, jsonb) FROM PUBLIC;

-- One audit row; the actor is session_user (the trigger insists for everyone but the
-- owner), the time the server's clock.
CREATE FUNCTION rapport__audit(
    p_action text, p_entity text, p_entity_id int, p_detail jsonb, p_before jsonb, p_after jsonb
) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER AS $$
    INSERT INTO audit_log (at, actor, action, entity, entity_id, detail, before, after)
    VALUES (clock_timestamp(), session_user, p_action, p_entity, p_entity_id,
            p_detail::json, p_before::json, p_after::json)
$$;
REVOKE ALL ON FUNCTION rapport__audit(text, text, int, jsonb, jsonb, jsonb) FROM PUBLIC;

-- Store the outcome under a key this call claimed (NULL: no key claimed).
CREATE FUNCTION rapport__store(p_key text, p_outcome jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
BEGIN
    IF p_key IS NOT NULL THEN
        UPDATE authority_actions SET outcome = p_outcome::json WHERE idempotency_key = p_key;
    END IF;
    RETURN p_outcome;
END $$;
REVOKE ALL ON FUNCTION rapport__store(text, jsonb) FROM PUBLIC;

-- A denial: audited (p_action on p_entity/p_entity_id, detail = reason, the outcome's
-- non-null numbers and p_detail), stored under p_key when this call claimed it, and
-- returned.
CREATE FUNCTION rapport__deny(
    p_key text, p_action text, p_entity text, p_entity_id int, p_reason text,
    p_fields jsonb, p_detail jsonb
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    v_out jsonb := rapport__outcome(
        'denied', jsonb_build_object('reason', p_reason) || coalesce(p_fields, '{}'::jsonb));
BEGIN
    PERFORM rapport__audit(
        p_action, p_entity, p_entity_id,
        jsonb_build_object('reason', p_reason)
            || coalesce(p_detail, '{}'::jsonb)
            || jsonb_strip_nulls(coalesce(p_fields, '{}'::jsonb)),
        NULL, NULL);
    RETURN rapport__store(p_key, v_out);
END $$;
REVOKE ALL ON FUNCTION rapport__deny(text, text, text, int, text, jsonb, jsonb) FROM PUBLIC;

-- What is wrong with an idempotency key, or NULL: it must be 1-64 characters, not
-- blank, and not start with 'override-' (the concessions of override requests use
-- 'override-<id>').
CREATE FUNCTION rapport__key_problem(p_key text) RETURNS text
LANGUAGE sql IMMUTABLE SECURITY DEFINER AS $$
    SELECT CASE
        WHEN p_key IS NULL OR btrim(p_key, E' \t\r\n\f\x0B') = '' OR char_length(p_key) > 64
             OR p_key LIKE 'override-%' THEN 'key'
    END
$$;
REVOKE ALL ON FUNCTION rapport__key_problem(text) FROM PUBLIC;

-- Claim an idempotency key. NULL: this call owns it now (its outcome is stored at the
-- end). Otherwise what to return: the stored outcome with replayed true when the same
-- login sent the same parameters, else a key_reused denial (for the caller to audit;
-- never stored: the key keeps its first outcome). A concurrent first call holding the
-- key makes ON CONFLICT wait for its commit, after which its outcome is read.
CREATE FUNCTION rapport__claim(p_key text, p_action text, p_hash text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    v_row authority_actions%ROWTYPE;
BEGIN
    INSERT INTO authority_actions (idempotency_key, action, login, params_hash, outcome, created_at)
    VALUES (p_key, p_action, session_user, p_hash, NULL, now())
    ON CONFLICT (idempotency_key) DO NOTHING;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    SELECT * INTO v_row FROM authority_actions WHERE idempotency_key = p_key;
    IF v_row.params_hash = p_hash AND v_row.login = session_user AND v_row.outcome IS NOT NULL THEN
        RETURN v_row.outcome::jsonb || jsonb_build_object('replayed', true);
    END IF;
    RETURN rapport__outcome('denied', jsonb_build_object('reason', 'key_reused'));
END $$;
REVOKE ALL ON FUNCTION rapport__claim(text, text, text) FROM PUBLIC;

-- Step 3 of grant and request: what is invalid in the ask ('type', 'amount', 'reason',
-- 'currency', 'percent', 'customer', 'case', 'order', 'order_line', 'policy'), or NULL.
-- p_percent is already rounded to 2 decimals.
CREATE FUNCTION rapport__ask_problem(
    p_customer_id int, p_type text, p_amount_cents int, p_reason text, p_currency text,
    p_case_id int, p_order_id int, p_order_line_id int, p_percent numeric, p_policy_id int
) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
BEGIN
    IF p_type IS NULL OR p_type NOT IN (
        'discount', 'credit', 'sample', 'goodwill_gift', 'fee_waiver', 'policy_exception'
    ) THEN
        RETURN 'type';
    END IF;
    IF p_amount_cents IS NULL OR p_amount_cents < 0 THEN
        RETURN 'amount';
    END IF;
    IF p_reason IS NULL OR btrim(p_reason, E' \t\r\n\f\x0B') = '' OR char_length(p_reason) > 2000 THEN
        RETURN 'reason';
    END IF;
    IF p_currency IS NULL OR p_currency !~ '^[A-Z]{3}$' THEN
        RETURN 'currency';
    END IF;
    IF p_percent IS NOT NULL AND NOT (p_percent > 0 AND p_percent <= 100) THEN
        RETURN 'percent';
    END IF;
    IF p_customer_id IS NULL OR NOT EXISTS (SELECT 1 FROM customers WHERE id = p_customer_id) THEN
        RETURN 'customer';
    END IF;
    IF p_case_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM cases WHERE id = p_case_id AND customer_id = p_customer_id
    ) THEN
        RETURN 'case';
    END IF;
    IF p_order_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM orders WHERE id = p_order_id AND customer_id = p_customer_id
    ) THEN
        RETURN 'order';
    END IF;
    IF p_order_line_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM order_lines l JOIN orders o ON o.id = l.order_id
        WHERE l.id = p_order_line_id AND o.customer_id = p_customer_id
          AND (p_order_id IS NULL OR l.order_id = p_order_id)
    ) THEN
        RETURN 'order_line';
    END IF;
    IF p_policy_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM policies WHERE id = p_policy_id) THEN
        RETURN 'policy';
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION rapport__ask_problem(int, text, int, text, text, int, int, int, numeric, int) FROM PUBLIC;

-- Steps 4-7 of a grant for (user, role): NULL reason when the ask is within the
-- user's authority. p_take: lock the customer row (FOR NO KEY UPDATE, so two grants to
-- one customer serialize) and the budget row (FOR UPDATE), and spend the budget;
-- otherwise only read (request's "would it be granted?").
-- Returns {reason, limit_cents, required_role?, remaining_budget_cents}.
CREATE FUNCTION rapport__within(
    p_user_id int, p_role text, p_customer_id int, p_type text, p_amount_cents int,
    p_percent numeric, p_day date, p_take boolean
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    v_lim authority_limits%ROWTYPE;
    v_total bigint;
    v_budget concession_budgets%ROWTYPE;
    v_limit int;
    v_spent int;
BEGIN
    -- 4. a valid row that allows the type
    SELECT * INTO v_lim FROM rapport__limit(p_user_id, p_role, p_type, p_day);
    IF NOT FOUND OR NOT v_lim.allowed THEN
        RETURN jsonb_build_object('reason', 'type_not_allowed');
    END IF;
    -- 5. one concession's amount and percentage
    IF p_amount_cents > v_lim.max_amount_cents OR p_percent > v_lim.max_percent THEN
        RETURN jsonb_build_object('reason', 'above_limit', 'limit_cents', v_lim.max_amount_cents);
    END IF;
    -- 6. what this customer received of the type over the period, from everyone
    IF v_lim.max_total_per_period_cents IS NOT NULL THEN
        IF p_take THEN
            PERFORM 1 FROM customers WHERE id = p_customer_id FOR NO KEY UPDATE;
        END IF;
        SELECT coalesce(sum(amount_cents), 0) INTO v_total FROM concessions
        WHERE customer_id = p_customer_id AND type = p_type
          AND granted_at >= now() - make_interval(days => v_lim.period_days);
        IF v_total + p_amount_cents > v_lim.max_total_per_period_cents THEN
            RETURN jsonb_build_object(
                'reason', 'customer_limit', 'limit_cents', v_lim.max_total_per_period_cents);
        END IF;
    END IF;
    -- 7. the granter's daily budget of the type. The day's row keeps the larger of the
    -- budget and what was spent already (an admin may lower a budget in the day: the
    -- CHECK spent_cents <= limit_cents must hold), so a lowered budget refuses more.
    IF v_lim.daily_budget_cents IS NULL THEN
        RETURN jsonb_build_object('reason', NULL, 'remaining_budget_cents', NULL);
    END IF;
    IF NOT p_take THEN
        SELECT spent_cents INTO v_spent FROM concession_budgets
        WHERE user_id = p_user_id AND day = p_day AND concession_type = p_type;
        v_spent := coalesce(v_spent, 0);
        v_limit := greatest(v_lim.daily_budget_cents, v_spent);
        IF v_spent + p_amount_cents > v_limit THEN
            RETURN jsonb_build_object('reason', 'over_budget', 'limit_cents', v_limit,
                                      'remaining_budget_cents', v_limit - v_spent);
        END IF;
        RETURN jsonb_build_object('reason', NULL, 'remaining_budget_cents', v_limit - v_spent);
    END IF;
    INSERT INTO concession_budgets AS b (user_id, day, concession_type, limit_cents, spent_cents)
    VALUES (p_user_id, p_day, p_type, v_lim.daily_budget_cents, 0)
    ON CONFLICT (user_id, day, concession_type)
        DO UPDATE SET limit_cents = greatest(EXCLUDED.limit_cents, b.spent_cents);
    SELECT * INTO v_budget FROM concession_budgets
    WHERE user_id = p_user_id AND day = p_day AND concession_type = p_type
    FOR UPDATE;
    IF v_budget.spent_cents + p_amount_cents > v_budget.limit_cents THEN
        RETURN jsonb_build_object(
            'reason', 'over_budget', 'limit_cents', v_budget.limit_cents,
            'remaining_budget_cents', v_budget.limit_cents - v_budget.spent_cents);
    END IF;
    UPDATE concession_budgets SET spent_cents = spent_cents + p_amount_cents
    WHERE user_id = p_user_id AND day = p_day AND concession_type = p_type
    RETURNING limit_cents - spent_cents INTO v_limit;
    RETURN jsonb_build_object('reason', NULL, 'remaining_budget_cents', v_limit);
END $$;
REVOKE ALL ON FUNCTION rapport__within(int, text, int, text, int, numeric, date, boolean) FROM PUBLIC;


-- ---------------------------------------------------------------------------------
-- The functions the app calls (granted by `rapportctl db provision-roles`)
-- ---------------------------------------------------------------------------------

-- GRANT: give a concession within the caller's own authority, exactly once per key.
CREATE FUNCTION rapport_grant_concession(
    p_key text, p_customer_id int, p_type text, p_amount_cents int, p_reason text,
    p_currency text, p_case_id int, p_order_id int, p_order_line_id int,
    p_percent numeric, p_policy_id int
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET TimeZone = 'UTC' AS $$
DECLARE
    v_user users%ROWTYPE;
    v_day date := rapport__today();
    v_percent numeric := round(p_percent, 2);
    v_detail jsonb := jsonb_build_object(
        'action', 'grant', 'type', p_type, 'amount_cents', p_amount_cents,
        'percent', round(p_percent, 2), 'currency', p_currency, 'case_id', p_case_id,
        'order_id', p_order_id, 'order_line_id', p_order_line_id, 'policy_id', p_policy_id,
        'key', left(p_key, 64));
    v_out jsonb;
    v_problem text;
    v_check jsonb;
    v_concession concessions%ROWTYPE;
BEGIN
    -- 1. an active staff row for the login
    SELECT * INTO v_user FROM users WHERE login = session_user AND active;
    IF NOT FOUND THEN
        RETURN rapport__deny(NULL, 'concession.denied', 'customer', p_customer_id,
                             'not_staff', NULL, v_detail);
    END IF;
    -- 2. the idempotency key
    v_problem := rapport__key_problem(p_key);
    IF v_problem IS NOT NULL THEN
        RETURN rapport__deny(NULL, 'concession.denied', 'customer', p_customer_id, 'invalid',
                             NULL, v_detail || jsonb_build_object('invalid', v_problem));
    END IF;
    v_out := rapport__claim(p_key, 'grant', rapport__params_hash(
        'grant', p_customer_id, p_type, p_amount_cents, p_percent, p_currency,
        p_case_id, p_order_id, p_order_line_id, p_policy_id, p_reason));
    IF v_out IS NOT NULL THEN
        IF v_out->>'reason' = 'key_reused' THEN
            PERFORM rapport__audit('concession.denied', 'customer', p_customer_id,
                jsonb_build_object('reason', 'key_reused') || v_detail, NULL, NULL);
        END IF;
        RETURN v_out;
    END IF;
    -- 3. the ask itself
    v_problem := rapport__ask_problem(p_customer_id, p_type, p_amount_cents, p_reason,
        p_currency, p_case_id, p_order_id, p_order_line_id, v_percent, p_policy_id);
    IF v_problem IS NOT NULL THEN
        RETURN rapport__deny(p_key, 'concession.denied', 'customer', p_customer_id, 'invalid',
                             NULL, v_detail || jsonb_build_object('invalid', v_problem));
    END IF;
    -- 4-7. type, amount and percentage, customer period, daily budget
    v_check := rapport__within(v_user.id, v_user.role, p_customer_id, p_type, p_amount_cents,
                               v_percent, v_day, true);
    IF v_check->>'reason' IS NOT NULL THEN
        IF v_check->>'reason' <> 'over_budget' THEN
            v_check := v_check || jsonb_build_object('required_role', rapport__required_role(
                p_type, p_amount_cents, v_percent, v_day,
                ARRAY['senior_agent', 'supervisor', 'manager']));
        END IF;
        RETURN rapport__deny(p_key, 'concession.denied', 'customer', p_customer_id,
                             v_check->>'reason', v_check - 'reason', v_detail);
    END IF;
    -- 8. the concession
    INSERT INTO concessions (
        idempotency_key, customer_id, case_id, type, amount_cents, currency, reason,
        granted_by_id, override_request_id, granted_at, order_id, order_line_id, percent,
        policy_id, approved_by_id)
    VALUES (
        p_key, p_customer_id, p_case_id, p_type, p_amount_cents, p_currency, p_reason,
        v_user.id, NULL, now(), p_order_id, p_order_line_id, v_percent, p_policy_id, NULL)
    RETURNING * INTO v_concession;
    PERFORM rapport__audit('concession.grant', 'concession', v_concession.id,
        jsonb_build_object('customer_id', p_customer_id, 'key', p_key,
                           'remaining_budget_cents', v_check->'remaining_budget_cents'),
        NULL, to_jsonb(v_concession));
    RETURN rapport__store(p_key, rapport__outcome('granted', jsonb_build_object(
        'concession_id', v_concession.id,
        'remaining_budget_cents', v_check->'remaining_budget_cents')));
END $$;
REVOKE ALL ON FUNCTION rapport_grant_concession(text, int, text, int, text, text, int, int, int, numeric, int) FROM PUBLIC;

-- REQUEST: ask a supervisor (or a manager) to approve what is above the caller's
-- authority, while the customer waits.
CREATE FUNCTION rapport_request_override(
    p_key text, p_customer_id int, p_type text, p_amount_cents int, p_reason text,
    p_currency text, p_case_id int, p_order_id int, p_order_line_id int,
    p_percent numeric, p_policy_id int
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET TimeZone = 'UTC' AS $$
DECLARE
    v_user users%ROWTYPE;
    v_day date := rapport__today();
    v_percent numeric := round(p_percent, 2);
    v_detail jsonb := jsonb_build_object(
        'action', 'request', 'type', p_type, 'amount_cents', p_amount_cents,
        'percent', round(p_percent, 2), 'currency', p_currency, 'case_id', p_case_id,
        'order_id', p_order_id, 'order_line_id', p_order_line_id, 'policy_id', p_policy_id,
        'key', left(p_key, 64));
    v_out jsonb;
    v_problem text;
    v_check jsonb;
    v_required text;
    v_approvers int;
    v_ttl int;
    v_request override_requests%ROWTYPE;
BEGIN
    -- 1-3 as a grant
    SELECT * INTO v_user FROM users WHERE login = session_user AND active;
    IF NOT FOUND THEN
        RETURN rapport__deny(NULL, 'override.denied', 'customer', p_customer_id,
                             'not_staff', NULL, v_detail);
    END IF;
    v_problem := rapport__key_problem(p_key);
    IF v_problem IS NOT NULL THEN
        RETURN rapport__deny(NULL, 'override.denied', 'customer', p_customer_id, 'invalid',
                             NULL, v_detail || jsonb_build_object('invalid', v_problem));
    END IF;
    v_out := rapport__claim(p_key, 'request', rapport__params_hash(
        'request', p_customer_id, p_type, p_amount_cents, p_percent, p_currency,
        p_case_id, p_order_id, p_order_line_id, p_policy_id, p_reason));
    IF v_out IS NOT NULL THEN
        IF v_out->>'reason' = 'key_reused' THEN
            PERFORM rapport__audit('override.denied', 'customer', p_customer_id,
                jsonb_build_object('reason', 'key_reused') || v_detail, NULL, NULL);
        END IF;
        RETURN v_out;
    END IF;
    v_problem := rapport__ask_problem(p_customer_id, p_type, p_amount_cents, p_reason,
        p_currency, p_case_id, p_order_id, p_order_line_id, v_percent, p_policy_id);
    IF v_problem IS NOT NULL THEN
        RETURN rapport__deny(p_key, 'override.denied', 'customer', p_customer_id, 'invalid',
                             NULL, v_detail || jsonb_build_object('invalid', v_problem));
    END IF;
    -- Within the caller's own authority (steps 4-7, read only): grant it instead.
    v_check := rapport__within(v_user.id, v_user.role, p_customer_id, p_type, p_amount_cents,
                               v_percent, v_day, false);
    IF v_check->>'reason' IS NULL THEN
        RETURN rapport__store(p_key, rapport__outcome('not_needed', jsonb_build_object(
            'remaining_budget_cents', v_check->'remaining_budget_cents')));
    END IF;
    -- Who must approve: the lowest of supervisor, manager whose role row covers it.
    v_required := rapport__required_role(p_type, p_amount_cents, v_percent, v_day,
                                         ARRAY['supervisor', 'manager']);
    IF v_required IS NULL THEN
        RETURN rapport__deny(p_key, 'override.denied', 'customer', p_customer_id,
                             'above_every_limit', NULL, v_detail);
    END IF;
    -- Who could approve right now: a fresh heartbeat (30 s), available, not the caller.
    SELECT count(*) INTO v_approvers
    FROM users u JOIN staff_presence p ON p.user_id = u.id
    WHERE u.active AND u.role IN ('supervisor', 'manager')
      AND rapport__rank(u.role) >= rapport__rank(v_required)
      AND u.id <> v_user.id
      AND p.available AND p.seen_at >= now() - interval '30 seconds';
    IF v_approvers = 0 THEN
        PERFORM rapport__audit('override.no_approver', 'customer', p_customer_id,
            v_detail || jsonb_build_object('required_role', v_required), NULL, NULL);
        RETURN rapport__store(p_key, rapport__outcome('no_approver', jsonb_build_object(
            'required_role', v_required, 'approvers', 0)));
    END IF;
    SELECT request_ttl_seconds INTO v_ttl FROM authority_settings WHERE id = 1;
    INSERT INTO override_requests (
        idempotency_key, customer_id, case_id, policy_id, concession_type, amount_cents,
        reason, requested_by_id, required_role, requested_at, status, version, order_id,
        percent, currency, expires_at)
    VALUES (
        p_key, p_customer_id, p_case_id, p_policy_id, p_type, p_amount_cents,
        p_reason, v_user.id, v_required, now(), 'pending', 1, p_order_id,
        v_percent, p_currency, now() + make_interval(secs => coalesce(v_ttl, 300)))
    RETURNING * INTO v_request;
    PERFORM rapport__audit('override.request', 'override', v_request.id,
        jsonb_build_object('customer_id', p_customer_id, 'key', p_key,
                           'approvers', v_approvers, 'denied_alone', v_check->>'reason'),
        NULL, to_jsonb(v_request));
    RETURN rapport__store(p_key, rapport__outcome('pending', jsonb_build_object(
        'request_id', v_request.id, 'required_role', v_required,
        'expires_at', v_request.expires_at, 'approvers', v_approvers)));
END $$;
REVOKE ALL ON FUNCTION rapport_request_override(text, int, text, int, text, text, int, int, int, numeric, int) FROM PUBLIC;

-- DECIDE: approve, reject or counter-offer a pending request. The request row is
-- locked FOR UPDATE: of two approvers at the same moment one decides, the other waits
-- and then finds it decided (UNIQUE override_decisions.request_id backs it).
CREATE FUNCTION rapport_decide_override(
    p_request_id int, p_decision text, p_comment text, p_counter_amount_cents int
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET TimeZone = 'UTC' AS $$
DECLARE
    v_user users%ROWTYPE;
    v_day date := rapport__today();
    v_detail jsonb := jsonb_build_object(
        'decision', p_decision, 'counter_amount_cents', p_counter_amount_cents);
    v_request override_requests%ROWTYPE;
    v_after override_requests%ROWTYPE;
    v_lim authority_limits%ROWTYPE;
    v_has_limit boolean;
    v_status text;
    v_concession_id int;
BEGIN
    -- 1. an approver: active staff row with role supervisor or manager, and membership
    -- of that role's group (rapport_supervisor / rapport_manager)
    SELECT * INTO v_user FROM users WHERE login = session_user AND active;
    IF NOT FOUND THEN
        RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id,
                             'not_staff', jsonb_build_object('request_id', p_request_id), v_detail);
    END IF;
    IF v_user.role NOT IN ('supervisor', 'manager')
       OR NOT rapport__in_group('rapport_' || v_user.role) THEN
        RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id,
                             'not_approver', jsonb_build_object('request_id', p_request_id), v_detail);
    END IF;
    -- 2. the request, locked
    SELECT * INTO v_request FROM override_requests WHERE id = p_request_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id,
                             'not_found', jsonb_build_object('request_id', p_request_id), v_detail);
    END IF;
    -- 3. nobody decides their own request
    IF v_request.requested_by_id = v_user.id THEN
        RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id,
                             'own_request', jsonb_build_object('request_id', p_request_id),
                             v_detail);
    END IF;
    -- 4. a second decision changes nothing, and says so
    IF v_request.status <> 'pending' THEN
        RETURN rapport__deny(NULL, 'override.decide_again', 'override', p_request_id,
            'already_decided',
            jsonb_build_object('request_id', p_request_id, 'request_status', v_request.status),
            v_detail);
    END IF;
    -- 5. too late
    IF v_request.expires_at < clock_timestamp() THEN
        UPDATE override_requests SET status = 'expired', version = version + 1
        WHERE id = p_request_id RETURNING * INTO v_after;
        PERFORM rapport__audit('override.expire', 'override', p_request_id,
            jsonb_build_object('by', 'decide'), to_jsonb(v_request), to_jsonb(v_after));
        RETURN rapport__outcome('expired', jsonb_build_object(
            'request_id', p_request_id, 'request_status', 'expired',
            'expires_at', v_request.expires_at));
    END IF;
    -- 6. rank
    IF rapport__rank(v_user.role) < rapport__rank(v_request.required_role) THEN
        RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id,
            'not_approver',
            jsonb_build_object('request_id', p_request_id,
                               'required_role', v_request.required_role),
            v_detail);
    END IF;
    -- 7. the decision itself and the approver's own limit
    IF p_decision IS NULL OR p_decision NOT IN ('approve', 'reject', 'counter') THEN
        RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id, 'invalid',
            jsonb_build_object('request_id', p_request_id),
            v_detail || jsonb_build_object('invalid', 'decision'));
    END IF;
    IF p_decision IN ('reject', 'counter') AND (
        p_comment IS NULL OR btrim(p_comment, E' \t\r\n\f\x0B') = ''
    ) OR char_length(p_comment) > 2000 THEN
        RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id, 'invalid',
            jsonb_build_object('request_id', p_request_id),
            v_detail || jsonb_build_object('invalid', 'comment'));
    END IF;
    IF p_decision = 'counter' AND (
        p_counter_amount_cents IS NULL OR p_counter_amount_cents <= 0
        OR p_counter_amount_cents >= v_request.amount_cents
    ) THEN
        RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id, 'invalid',
            jsonb_build_object('request_id', p_request_id),
            v_detail || jsonb_build_object('invalid', 'counter_amount'));
    END IF;
    IF p_decision IN ('approve', 'counter') THEN
        SELECT * INTO v_lim FROM rapport__limit(
            v_user.id, v_user.role, v_request.concession_type, v_day);
        v_has_limit := FOUND;
        IF NOT v_has_limit OR NOT v_lim.allowed
           OR (p_decision = 'approve' AND (
                v_request.amount_cents > v_lim.max_amount_cents
                OR v_request.percent > v_lim.max_percent))
           OR (p_decision = 'counter' AND p_counter_amount_cents > v_lim.max_amount_cents)
        THEN
            RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id,
                'above_your_limit',
                jsonb_build_object('request_id', p_request_id,
                                   'limit_cents', v_lim.max_amount_cents,
                                   'required_role', 'manager'),
                v_detail);
        END IF;
    END IF;
    -- 8. record it
    v_status := CASE p_decision
        WHEN 'approve' THEN 'approved' WHEN 'reject' THEN 'rejected' ELSE 'countered' END;
    INSERT INTO override_decisions (
        request_id, decided_by_id, approved, comment, decided_at, decision, counter_amount_cents)
    VALUES (
        p_request_id, v_user.id, p_decision = 'approve', p_comment, now(), p_decision,
        CASE WHEN p_decision = 'counter' THEN p_counter_amount_cents END);
    UPDATE override_requests SET status = v_status, version = version + 1
    WHERE id = p_request_id RETURNING * INTO v_after;
    IF p_decision = 'approve' THEN
        INSERT INTO concessions (
            idempotency_key, customer_id, case_id, type, amount_cents, currency, reason,
            granted_by_id, override_request_id, granted_at, order_id, order_line_id,
            percent, policy_id, approved_by_id)
        VALUES (
            'override-' || p_request_id, v_request.customer_id, v_request.case_id,
            v_request.concession_type, v_request.amount_cents, v_request.currency,
            v_request.reason, v_request.requested_by_id, p_request_id, now(),
            v_request.order_id, NULL, v_request.percent, v_request.policy_id, v_user.id)
        RETURNING id INTO v_concession_id;
    END IF;
    PERFORM rapport__audit('override.' || p_decision, 'override', p_request_id,
        jsonb_build_object('comment', p_comment, 'concession_id', v_concession_id)
            || v_detail,
        to_jsonb(v_request), to_jsonb(v_after));
    RETURN rapport__outcome(v_status, jsonb_build_object(
        'request_id', p_request_id, 'concession_id', v_concession_id,
        'request_status', v_status,
        'counter_amount_cents',
        CASE WHEN p_decision = 'counter' THEN p_counter_amount_cents END));
END $$;
REVOKE ALL ON FUNCTION rapport_decide_override(int, text, text, int) FROM PUBLIC;

-- WITHDRAW: the requester takes back a pending request.
CREATE FUNCTION rapport_withdraw_override(p_request_id int) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET TimeZone = 'UTC' AS $$
DECLARE
    v_user users%ROWTYPE;
    v_request override_requests%ROWTYPE;
    v_after override_requests%ROWTYPE;
    v_detail jsonb := jsonb_build_object('action', 'withdraw');
BEGIN
    SELECT * INTO v_user FROM users WHERE login = session_user AND active;
    IF NOT FOUND THEN
        RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id,
                             'not_staff', jsonb_build_object('request_id', p_request_id), v_detail);
    END IF;
    SELECT * INTO v_request FROM override_requests WHERE id = p_request_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id,
                             'not_found', jsonb_build_object('request_id', p_request_id), v_detail);
    END IF;
    IF v_request.requested_by_id <> v_user.id THEN
        RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id,
                             'not_yours', jsonb_build_object('request_id', p_request_id),
                             v_detail);
    END IF;
    IF v_request.status <> 'pending' THEN
        RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id, 'not_pending',
            jsonb_build_object('request_id', p_request_id, 'request_status', v_request.status),
            v_detail);
    END IF;
    UPDATE override_requests SET status = 'withdrawn', version = version + 1
    WHERE id = p_request_id RETURNING * INTO v_after;
    PERFORM rapport__audit('override.withdraw', 'override', p_request_id, NULL,
                           to_jsonb(v_request), to_jsonb(v_after));
    RETURN rapport__outcome('withdrawn', jsonb_build_object(
        'request_id', p_request_id, 'request_status', 'withdrawn'));
END $$;
REVOKE ALL ON FUNCTION rapport_withdraw_override(int) FROM PUBLIC;

-- ACCEPT_COUNTER: the requester takes the approver's counter-offer; the concession is
-- recorded once per request (UNIQUE concessions.override_request_id), whatever the
-- key of the click.
CREATE FUNCTION rapport_accept_counter(p_request_id int, p_key text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET TimeZone = 'UTC' AS $$
DECLARE
    v_user users%ROWTYPE;
    v_request override_requests%ROWTYPE;
    v_decision override_decisions%ROWTYPE;
    v_concession concessions%ROWTYPE;
    v_detail jsonb := jsonb_build_object('action', 'accept_counter', 'key', left(p_key, 64));
    v_out jsonb;
    v_key text;
BEGIN
    SELECT * INTO v_user FROM users WHERE login = session_user AND active;
    IF NOT FOUND THEN
        RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id,
                             'not_staff', jsonb_build_object('request_id', p_request_id), v_detail);
    END IF;
    IF rapport__key_problem(p_key) IS NOT NULL THEN
        RETURN rapport__deny(NULL, 'override.denied', 'override', p_request_id, 'invalid',
                             jsonb_build_object('request_id', p_request_id),
                             v_detail || jsonb_build_object('invalid', 'key'));
    END IF;
    v_out := rapport__claim(p_key, 'accept_counter', rapport__sha256(
        concat_ws('|', 'accept_counter', coalesce(p_request_id::text, ''))));
    IF v_out IS NOT NULL THEN
        IF v_out->>'reason' = 'key_reused' THEN
            PERFORM rapport__audit('override.denied', 'override', p_request_id,
                jsonb_build_object('reason', 'key_reused') || v_detail, NULL, NULL);
        END IF;
        RETURN v_out;
    END IF;
    v_key := p_key;
    SELECT * INTO v_request FROM override_requests WHERE id = p_request_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN rapport__deny(v_key, 'override.denied', 'override', p_request_id,
                             'not_found', jsonb_build_object('request_id', p_request_id), v_detail);
    END IF;
    IF v_request.requested_by_id <> v_user.id THEN
        RETURN rapport__deny(v_key, 'override.denied', 'override', p_request_id, 'not_yours',
                             jsonb_build_object('request_id', p_request_id), v_detail);
    END IF;
    IF v_request.status <> 'countered' THEN
        RETURN rapport__deny(v_key, 'override.denied', 'override', p_request_id, 'not_pending',
            jsonb_build_object('request_id', p_request_id, 'request_status', v_request.status),
            v_detail);
    END IF;
    SELECT * INTO v_decision FROM override_decisions WHERE request_id = p_request_id;
    SELECT * INTO v_concession FROM concessions WHERE override_request_id = p_request_id;
    IF FOUND THEN
        RETURN rapport__store(v_key, rapport__outcome('granted', jsonb_build_object(
            'request_id', p_request_id, 'concession_id', v_concession.id,
            'counter_amount_cents', v_decision.counter_amount_cents, 'replayed', true)));
    END IF;
    INSERT INTO concessions (
        idempotency_key, customer_id, case_id, type, amount_cents, currency, reason,
        granted_by_id, override_request_id, granted_at, order_id, order_line_id,
        percent, policy_id, approved_by_id)
    VALUES (
        'override-' || p_request_id, v_request.customer_id, v_request.case_id,
        v_request.concession_type, v_decision.counter_amount_cents, v_request.currency,
        v_request.reason, v_request.requested_by_id, p_request_id, now(),
        v_request.order_id, NULL, NULL, v_request.policy_id, v_decision.decided_by_id)
    RETURNING * INTO v_concession;
    PERFORM rapport__audit('override.accept_counter', 'override', p_request_id,
        jsonb_build_object('concession_id', v_concession.id,
                           'counter_amount_cents', v_decision.counter_amount_cents)
            || v_detail,
        NULL, to_jsonb(v_concession));
    RETURN rapport__store(v_key, rapport__outcome('granted', jsonb_build_object(
        'request_id', p_request_id, 'concession_id', v_concession.id,
        'counter_amount_cents', v_decision.counter_amount_cents)));
END $$;
REVOKE ALL ON FUNCTION rapport_accept_counter(int, text) FROM PUBLIC;

-- EXPIRE: pending requests past their time become expired, each audited. Rows a
-- decider holds are skipped (the decider settles them); returns how many expired.
CREATE FUNCTION rapport_expire_overrides() RETURNS int
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET TimeZone = 'UTC' AS $$
DECLARE
    v_request override_requests%ROWTYPE;
    v_after override_requests%ROWTYPE;
    v_count int := 0;
BEGIN
    FOR v_request IN
        SELECT * FROM override_requests
        WHERE status = 'pending' AND expires_at < clock_timestamp()
        ORDER BY id
        FOR UPDATE SKIP LOCKED
    LOOP
        UPDATE override_requests SET status = 'expired', version = version + 1
        WHERE id = v_request.id RETURNING * INTO v_after;
        PERFORM rapport__audit('override.expire', 'override', v_request.id,
            jsonb_build_object('by', 'expire'), to_jsonb(v_request), to_jsonb(v_after));
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END $$;
REVOKE ALL ON FUNCTION rapport_expire_overrides() FROM PUBLIC;

-- SET_LIMIT: an admin writes the one matrix row of (role or user, type); audited with
-- before and after.
CREATE FUNCTION rapport_set_limit(
    p_key text, p_role text, p_user_id int, p_type text, p_allowed bool,
    p_max_amount_cents int, p_max_percent numeric, p_daily_budget_cents int,
    p_period_days int, p_max_total_per_period_cents int, p_valid_from date,
    p_valid_until date
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET TimeZone = 'UTC' AS $$
DECLARE
    v_user users%ROWTYPE;
    v_percent numeric := round(p_max_percent, 2);
    v_detail jsonb := jsonb_build_object(
        'role', p_role, 'user_id', p_user_id, 'type', p_type, 'key', left(p_key, 64));
    v_out jsonb;
    v_problem text;
    v_before authority_limits%ROWTYPE;
    v_after authority_limits%ROWTYPE;
BEGIN
    SELECT * INTO v_user FROM users WHERE login = session_user AND active;
    IF NOT FOUND THEN
        RETURN rapport__deny(NULL, 'authority.denied', 'authority_limit', NULL,
                             'not_staff', NULL, v_detail);
    END IF;
    IF v_user.role <> 'admin' OR NOT rapport__in_group('rapport_admin') THEN
        RETURN rapport__deny(NULL, 'authority.denied', 'authority_limit', NULL,
                             'not_admin', NULL, v_detail);
    END IF;
    IF rapport__key_problem(p_key) IS NOT NULL THEN
        RETURN rapport__deny(NULL, 'authority.denied', 'authority_limit', NULL, 'invalid',
                             NULL, v_detail || jsonb_build_object('invalid', 'key'));
    END IF;
    v_out := rapport__claim(p_key, 'set_limit', rapport__sha256(concat_ws('|',
        'set_limit', coalesce(p_role, ''), coalesce(p_user_id::text, ''), coalesce(p_type, ''),
        coalesce(p_allowed::text, ''), coalesce(p_max_amount_cents::text, ''),
        coalesce(v_percent::text, ''), coalesce(p_daily_budget_cents::text, ''),
        coalesce(p_period_days::text, ''), coalesce(p_max_total_per_period_cents::text, ''),
        coalesce(to_char(p_valid_from, 'YYYY-MM-DD'), ''),
        coalesce(to_char(p_valid_until, 'YYYY-MM-DD'), ''))));
    IF v_out IS NOT NULL THEN
        IF v_out->>'reason' = 'key_reused' THEN
            PERFORM rapport__audit('authority.denied', 'authority_limit', NULL,
                jsonb_build_object('reason', 'key_reused') || v_detail, NULL, NULL);
        END IF;
        RETURN v_out;
    END IF;
    v_problem := CASE
        WHEN (p_role IS NULL) = (p_user_id IS NULL) THEN 'role_or_user'
        WHEN p_role IS NOT NULL
             AND p_role NOT IN ('agent', 'senior_agent', 'supervisor', 'manager', 'admin')
            THEN 'role'
        WHEN p_user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users WHERE id = p_user_id)
            THEN 'user'
        WHEN p_type IS NULL OR p_type NOT IN (
            'discount', 'credit', 'sample', 'goodwill_gift', 'fee_waiver', 'policy_exception')
            THEN 'type'
        WHEN p_allowed IS NULL THEN 'allowed'
        WHEN p_max_amount_cents IS NULL OR p_max_amount_cents < 0 THEN 'max_amount'
        WHEN v_percent < 0 OR v_percent > 100 THEN 'max_percent'
        WHEN p_daily_budget_cents < 0 THEN 'daily_budget'
        WHEN p_period_days IS NULL OR p_period_days < 1 THEN 'period_days'
        WHEN p_max_total_per_period_cents < 0 THEN 'max_total'
        WHEN p_valid_until < p_valid_from THEN 'validity'
    END;
    IF v_problem IS NOT NULL THEN
        RETURN rapport__deny(p_key, 'authority.denied', 'authority_limit', NULL, 'invalid',
                             NULL, v_detail || jsonb_build_object('invalid', v_problem));
    END IF;
    IF p_role IS NOT NULL THEN
        SELECT * INTO v_before FROM authority_limits
        WHERE role = p_role AND user_id IS NULL AND concession_type = p_type FOR UPDATE;
        INSERT INTO authority_limits AS l (
            role, user_id, concession_type, allowed, max_amount_cents, max_percent,
            daily_budget_cents, period_days, max_total_per_period_cents, valid_from, valid_until)
        VALUES (
            p_role, NULL, p_type, p_allowed, p_max_amount_cents, v_percent,
            p_daily_budget_cents, p_period_days, p_max_total_per_period_cents,
            p_valid_from, p_valid_until)
        ON CONFLICT (role, concession_type) WHERE role IS NOT NULL DO UPDATE SET
            allowed = EXCLUDED.allowed, max_amount_cents = EXCLUDED.max_amount_cents,
            max_percent = EXCLUDED.max_percent, daily_budget_cents = EXCLUDED.daily_budget_cents,
            period_days = EXCLUDED.period_days,
            max_total_per_period_cents = EXCLUDED.max_total_per_period_cents,
            valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until
        RETURNING * INTO v_after;
    ELSE
        SELECT * INTO v_before FROM authority_limits
        WHERE user_id = p_user_id AND concession_type = p_type FOR UPDATE;
        INSERT INTO authority_limits AS l (
            role, user_id, concession_type, allowed, max_amount_cents, max_percent,
            daily_budget_cents, period_days, max_total_per_period_cents, valid_from, valid_until)
        VALUES (
            NULL, p_user_id, p_type, p_allowed, p_max_amount_cents, v_percent,
            p_daily_budget_cents, p_period_days, p_max_total_per_period_cents,
            p_valid_from, p_valid_until)
        ON CONFLICT (user_id, concession_type) WHERE user_id IS NOT NULL DO UPDATE SET
            allowed = EXCLUDED.allowed, max_amount_cents = EXCLUDED.max_amount_cents,
            max_percent = EXCLUDED.max_percent, daily_budget_cents = EXCLUDED.daily_budget_cents,
            period_days = EXCLUDED.period_days,
            max_total_per_period_cents = EXCLUDED.max_total_per_period_cents,
            valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until
        RETURNING * INTO v_after;
    END IF;
    PERFORM rapport__audit('authority.limit', 'authority_limit', v_after.id, v_detail,
        CASE WHEN v_before.id IS NULL THEN NULL ELSE to_jsonb(v_before) END,
        to_jsonb(v_after));
    RETURN rapport__store(p_key, rapport__outcome('saved', NULL));
END $$;
REVOKE ALL ON FUNCTION rapport_set_limit(text, text, int, text, bool, int, numeric, int, int, int, date, date) FROM PUBLIC;

-- DELETE_LIMIT: an admin removes a user's adjustment row (a role's row is edited,
-- never deleted); audited with the row as it was.
CREATE FUNCTION rapport_delete_limit(p_limit_id int) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET TimeZone = 'UTC' AS $$
DECLARE
    v_user users%ROWTYPE;
    v_before authority_limits%ROWTYPE;
    v_detail jsonb := jsonb_build_object('action', 'delete_limit');
BEGIN
    SELECT * INTO v_user FROM users WHERE login = session_user AND active;
    IF NOT FOUND THEN
        RETURN rapport__deny(NULL, 'authority.denied', 'authority_limit', p_limit_id,
                             'not_staff', NULL, v_detail);
    END IF;
    IF v_user.role <> 'admin' OR NOT rapport__in_group('rapport_admin') THEN
        RETURN rapport__deny(NULL, 'authority.denied', 'authority_limit', p_limit_id,
                             'not_admin', NULL, v_detail);
    END IF;
    SELECT * INTO v_before FROM authority_limits WHERE id = p_limit_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN rapport__deny(NULL, 'authority.denied', 'authority_limit', p_limit_id,
                             'not_found', NULL, v_detail);
    END IF;
    IF v_before.user_id IS NULL THEN
        RETURN rapport__deny(NULL, 'authority.denied', 'authority_limit', p_limit_id,
                             'invalid', NULL, v_detail || jsonb_build_object('invalid', 'role_row'));
    END IF;
    DELETE FROM authority_limits WHERE id = p_limit_id;
    PERFORM rapport__audit('authority.limit_delete', 'authority_limit', p_limit_id, v_detail,
                           to_jsonb(v_before), NULL);
    RETURN rapport__outcome('saved', NULL);
END $$;
REVOKE ALL ON FUNCTION rapport_delete_limit(int) FROM PUBLIC;

-- SET_PRESENCE: the caller's heartbeat ("available for approvals" or not). A login
-- with no active staff row changes nothing.
CREATE FUNCTION rapport_set_presence(p_available bool) RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET TimeZone = 'UTC' AS $$
    INSERT INTO staff_presence AS p (user_id, available, seen_at)
    SELECT u.id, coalesce(p_available, false), now()
    FROM users u WHERE u.login = session_user AND u.active
    ON CONFLICT (user_id) DO UPDATE SET available = EXCLUDED.available, seen_at = EXCLUDED.seen_at
$$;
REVOKE ALL ON FUNCTION rapport_set_presence(bool) FROM PUBLIC;

-- MY_AUTHORITY: the caller's effective row of every concession type today (server
-- clock, budget zone): a type without a valid row comes back with allowed false and
-- NULL limits. No row at all for a login without an active staff row.
CREATE FUNCTION rapport_my_authority() RETURNS TABLE (
    concession_type text, allowed bool, max_amount_cents int, max_percent numeric,
    daily_budget_cents int, spent_today_cents int, period_days int,
    max_total_per_period_cents int
)
LANGUAGE sql STABLE SECURITY DEFINER SET TimeZone = 'UTC' AS $$
    WITH me AS (
        SELECT u.id, u.role, rapport__today() AS day
        FROM users u WHERE u.login = session_user AND u.active
    ), kinds(kind, n) AS (
        VALUES ('discount', 1), ('credit', 2), ('sample', 3), ('goodwill_gift', 4),
               ('fee_waiver', 5), ('policy_exception', 6)
    )
    SELECT k.kind, coalesce(l.allowed, false), l.max_amount_cents, l.max_percent,
           l.daily_budget_cents,
           coalesce((SELECT b.spent_cents FROM concession_budgets b
                     WHERE b.user_id = me.id AND b.day = me.day
                       AND b.concession_type = k.kind), 0),
           l.period_days, l.max_total_per_period_cents
    FROM me CROSS JOIN kinds k
    LEFT JOIN LATERAL rapport__limit(me.id, me.role, k.kind, me.day) l ON true
    ORDER BY k.n
$$;
REVOKE ALL ON FUNCTION rapport_my_authority() FROM PUBLIC;


-- Pin every function above to this schema, pg_temp last (see the top of this file).
DO $pin$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema()
          AND p.proname LIKE 'rapport\_%' AND p.proname NOT LIKE 'rapport\_changes\_%'
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f, current_schema());
    END LOOP;
END $pin$;
