"""Fuzz: the config writer, the loader-output reader and the hand-off server of a running
Rapport, fed hostile input. A result or the module's own error, never anything else."""

from __future__ import annotations

import json
import socket
import tomllib
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from app.config import load_settings, write_user_config
from app.errors import UserError
from app.toml_file import TomlFileError, set_values
from tests.conftest import RunningRapport
from tests.fuzz.strategies import hostile_phone, hostile_text
from ui.gui_check import missing_in_ldd_output
from ui.telephony import handoff_address

toml_documents = st.one_of(
    hostile_text,
    st.sampled_from(
        [
            "[rapport]\nuser = 1\n",
            "rapport = 1\n",
            "rapport.user = 'x'\n",
            "[rapport]\n[rapport]\n",
            "# only a comment",
            '[rapport]\nnote = """\nuser = "x"\n"""\n',
            "[rapport.sub]\nx = 1\n",
            "\ufeff[rapport]\r\nuser = 'a'\r\n",
        ]
    ),
)


@given(document=toml_documents, value=hostile_text)
def test_set_values_gives_a_readable_document_or_its_own_error(document: str, value: str) -> None:
    try:
        result = set_values(document, {"user": value, "ami_port": 5038, "bring_to_front": True})
    except TomlFileError:
        return
    table = tomllib.loads(result)["rapport"]
    assert table["user"] == value and table["ami_port"] == 5038


@given(value=hostile_text)
def test_write_user_config_round_trips_or_says_why(tmp_path: Path, value: str) -> None:
    path = tmp_path / "config.toml"
    try:
        write_user_config({"user": value, "db_url": "sqlite:///x.db"}, path)
    except UserError:
        return
    settings = load_settings(environ={}, user_file=path, machine_file=tmp_path / "none")
    assert settings.values["user"] == (value or None)


@given(output=hostile_text)
def test_reading_loader_output_never_fails(output: str) -> None:
    missing = missing_in_ldd_output(output + "\n\tlibx.so.1 => not found\n")
    assert "libx.so.1" in missing and len(set(missing)) == len(missing)


wire_lines = st.one_of(
    hostile_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=6000),
    hostile_phone.map(
        lambda number: json.dumps(
            {"v": 1, "kind": "lookup", "number": number, "source": "tel"}
        ).encode()
    ),
    st.builds(
        lambda number, name, call_id: json.dumps(
            {
                "v": 1,
                "call_id": call_id,
                "number": number,
                "name": name,
                "line": None,
                "state": "ringing",
                "at": "2026-12-02T12:00:00+00:00",
                "source": "handoff",
            }
        ).encode(),
        hostile_phone,
        hostile_text,
        hostile_text,
    ),
)


def test_the_hand_off_server_answers_every_hostile_line_and_keeps_running(
    running_rapport: RunningRapport, tmp_path: Path
) -> None:
    address = handoff_address()

    @given(line=wire_lines)
    def send(line: bytes) -> None:
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.settimeout(20)
        try:
            client.connect(address)
            client.sendall(line.replace(b"\n", b" ") + b"\n")
            answer = b""
            while chunk := client.recv(4096):
                answer += chunk
        except (ConnectionResetError, BrokenPipeError):
            return  # dropped: too long
        finally:
            client.close()
        assert answer == b"ok\n" or answer.startswith(b"error "), answer[:200]

    send()
    result = running_rapport.command("pop", "+1 (617) 555-0142", log_dir=tmp_path / "pop")
    assert result.returncode == 0, result.stderr
    assert running_rapport.process.poll() is None
    assert not running_rapport.logged("unhandled exception")
