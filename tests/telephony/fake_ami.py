"""A fake Asterisk Manager Interface server on loopback, close to what Asterisk 18+ sends.

It speaks the wire protocol the real one does (banner, CRLF "Key: Value" blocks,
ActionID echo, Login/Ping/Originate/Logoff responses, FullyBooted after login),
lets a test push call events with realistic fields, and can be stopped and
started again on the same port to exercise reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field

from app.telephony.adapter import bounded

BANNER = "Asterisk Call Manager/7.0.3"
Block = dict[str, str]


def encode_block(fields: Block) -> bytes:
    return ("".join(f"{key}: {value}\r\n" for key, value in fields.items()) + "\r\n").encode()


@dataclass
class _Client:
    writer: asyncio.StreamWriter
    logged_in: bool = False
    username: str = ""


@dataclass
class FakeAmi:
    """Serve one manager.conf user; record every action received."""

    username: str = "rapport"
    secret: str = "s3cret"
    answer_pings: bool = True
    port: int = 0
    actions: list[Block] = field(default_factory=list)
    logins: int = 0
    _server: asyncio.Server | None = None
    _clients: list[_Client] = field(default_factory=list)
    _login_event: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, port: int | None = None) -> int:
        """Listen on 127.0.0.1 (port 0 first time; the same port again after stop())."""
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port if port is None else port
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Close the listener and drop every client, as a crashing or restarting PBX would."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for client in list(self._clients):
            client.writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await client.writer.wait_closed()
        self._clients.clear()

    async def wait_logged_in(self, count: int = 1, timeout: float = 5.0) -> None:
        """Until `count` successful logins happened since the fake was created."""
        deadline = time.monotonic() + timeout
        while self.logins < count:
            self._login_event.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"only {self.logins} AMI logins, expected {count}")
            with contextlib.suppress(TimeoutError):
                await bounded(self._login_event.wait(), remaining)

    async def push(self, fields: Block) -> None:
        """Send one event block to every logged-in client."""
        data = encode_block(fields)
        for client in self._clients:
            if client.logged_in:
                client.writer.write(data)
                with contextlib.suppress(OSError, ConnectionError):
                    await client.writer.drain()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(writer)
        self._clients.append(client)
        try:
            writer.write(f"{BANNER}\r\n".encode())
            await writer.drain()
            while True:
                block = await self._read_block(reader)
                if block is None:
                    return
                self.actions.append(block)
                if not await self._answer(client, block):
                    return
        except (OSError, ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            if client in self._clients:
                self._clients.remove(client)
            writer.close()

    @staticmethod
    async def _read_block(reader: asyncio.StreamReader) -> Block | None:
        block: Block = {}
        while True:
            line = await reader.readline()
            if not line:
                return None
            text = line.decode().rstrip("\r\n")
            if not text:
                if block:
                    return block
                continue
            key, _, value = text.partition(":")
            block[key.strip()] = value.strip()

    async def _answer(self, client: _Client, block: Block) -> bool:
        """Reply like Asterisk does; False when the connection must close afterwards."""
        action = block.get("Action", "").lower()
        reply: Block = {}
        keep_open = True
        if action == "login":
            if block.get("Username") == self.username and block.get("Secret") == self.secret:
                client.logged_in = True
                client.username = self.username
                reply = {"Response": "Success", "Message": "Authentication accepted"}
            else:
                # Asterisk drops the connection after a failed login.
                reply = {"Response": "Error", "Message": "Authentication failed"}
                keep_open = False
        elif not client.logged_in:
            reply = {"Response": "Error", "Message": "Permission denied"}
        elif action == "ping":
            if not self.answer_pings:
                return True
            reply = {
                "Response": "Success",
                "Ping": "Pong",
                "Timestamp": f"{time.time():.6f}",
            }
        elif action == "originate":
            reply = {"Response": "Success", "Message": "Originate successfully queued"}
        elif action == "logoff":
            reply = {"Response": "Goodbye", "Message": "Thanks for all the fish."}
            keep_open = False
        else:
            reply = {"Response": "Error", "Message": "Invalid/unknown command"}
        if "ActionID" in block:
            reply = {"Response": reply["Response"], "ActionID": block["ActionID"]} | reply
        client.writer.write(encode_block(reply))
        if action == "login" and client.logged_in:
            client.writer.write(
                encode_block(
                    {
                        "Event": "FullyBooted",
                        "Privilege": "system,all",
                        "Uptime": "3600",
                        "LastReload": "3600",
                        "Status": "Fully Booted",
                    }
                )
            )
            self.logins += 1
            self._login_event.set()
        await client.writer.drain()
        return keep_open


_sequence = itertools.count(0x2A)


@dataclass
class FakeCall:
    """One inbound call from a trunk to an agent's device, as Asterisk 18 reports it."""

    caller_num: str = "+14155550134"
    caller_name: str = "Jane Doe"
    device: str = "PJSIP/agent01"
    did: str = "5551000"
    epoch: str = "1700000000"

    def __post_init__(self) -> None:
        seq = next(_sequence)
        self.trunk_channel = f"PJSIP/trunk-{seq:08x}"
        self.agent_channel = f"{self.device}-{seq + 1:08x}"
        self.uniqueid = f"{self.epoch}.{seq * 2}"
        self.dest_uniqueid = f"{self.epoch}.{seq * 2 + 1}"
        self.linkedid = self.uniqueid

    def dial_begin(self) -> Block:
        return {
            "Event": "DialBegin",
            "Privilege": "call,all",
            "Channel": self.trunk_channel,
            "ChannelState": "4",
            "ChannelStateDesc": "Ring",
            "CallerIDNum": self.caller_num,
            "CallerIDName": self.caller_name,
            "ConnectedLineNum": "<unknown>",
            "ConnectedLineName": "<unknown>",
            "Language": "en",
            "AccountCode": "",
            "Context": "from-trunk",
            "Exten": self.did,
            "Priority": "3",
            "Uniqueid": self.uniqueid,
            "Linkedid": self.linkedid,
            "DestChannel": self.agent_channel,
            "DestChannelState": "0",
            "DestChannelStateDesc": "Down",
            "DestCallerIDNum": self.did,
            "DestCallerIDName": "<unknown>",
            "DestConnectedLineNum": self.caller_num,
            "DestConnectedLineName": self.caller_name,
            "DestLanguage": "en",
            "DestAccountCode": "",
            "DestContext": "from-internal",
            "DestExten": self.did,
            "DestPriority": "1",
            "DestUniqueid": self.dest_uniqueid,
            "DestLinkedid": self.linkedid,
            "DialString": self.device.split("/", 1)[1],
        }

    def _agent_state(self, state: str, desc: str) -> Block:
        return {
            "Event": "Newstate",
            "Privilege": "call,all",
            "Channel": self.agent_channel,
            "ChannelState": state,
            "ChannelStateDesc": desc,
            "CallerIDNum": self.did,
            "CallerIDName": "<unknown>",
            "ConnectedLineNum": self.caller_num,
            "ConnectedLineName": self.caller_name,
            "Language": "en",
            "AccountCode": "",
            "Context": "from-internal",
            "Exten": self.did,
            "Priority": "1",
            "Uniqueid": self.dest_uniqueid,
            "Linkedid": self.linkedid,
        }

    def ringing(self) -> Block:
        return self._agent_state("5", "Ringing")

    def answered(self) -> Block:
        return self._agent_state("6", "Up")

    def hangup(self) -> Block:
        block = self._agent_state("6", "Up")
        block["Event"] = "Hangup"
        block["Cause"] = "16"
        block["Cause-txt"] = "Normal Clearing"
        return block

    def agent_called(self, queue: str = "support") -> Block:
        return {
            "Event": "AgentCalled",
            "Privilege": "agent,all",
            "Channel": self.trunk_channel,
            "ChannelState": "6",
            "ChannelStateDesc": "Up",
            "CallerIDNum": self.caller_num,
            "CallerIDName": self.caller_name,
            "ConnectedLineNum": "<unknown>",
            "ConnectedLineName": "<unknown>",
            "Language": "en",
            "AccountCode": "",
            "Context": "from-queue",
            "Exten": self.did,
            "Priority": "1",
            "Uniqueid": self.uniqueid,
            "Linkedid": self.linkedid,
            "DestChannel": self.agent_channel,
            "DestChannelState": "0",
            "DestChannelStateDesc": "Down",
            "DestCallerIDNum": self.did,
            "DestCallerIDName": "<unknown>",
            "DestConnectedLineNum": self.caller_num,
            "DestConnectedLineName": self.caller_name,
            "DestLanguage": "en",
            "DestAccountCode": "",
            "DestContext": "from-internal",
            "DestExten": self.did,
            "DestPriority": "1",
            "DestUniqueid": self.dest_uniqueid,
            "DestLinkedid": self.linkedid,
            "Queue": queue,
            "Interface": self.device,
            "MemberName": "Agent 01",
        }
