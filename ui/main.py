"""`rapport`: start the workstation (GUI), or `rapport --self-test` to check an install."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from app import __version__
from app.config import Settings, load_settings
from app.errors import UserError
from app.logs import log_dir, log_unhandled, setup_logging
from app.telephony.events import CallEvent
from app.telephony.handoff import HandoffRequest, is_handoff_argv, parse_handoff_args
from app.telephony.tel import LookupRequest
from models.errors import DatabaseError
from ui.bridge import DatabaseBridge
from ui.garbage import GuiThreadGarbageCollector
from ui.shell.main_window import MainWindow
from ui.telephony import TelephonyHub, activate_running_instance, hand_off
from ui.theme import apply_theme, follow_system_scheme

log = logging.getLogger("rapport")
SELF_TEST_TIMEOUT_S = 120
STORY_PHONE = "+1 (415) 555-0134"  # Eleanor Whitfield (S1) in the demo data


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rapport", description="Rapport agent workstation")
    parser.add_argument("--db", help="database URL (postgresql://... or sqlite:///...)")
    parser.add_argument(
        "--demo", action="store_true", help="use the embedded demo database (seeded on first use)"
    )
    parser.add_argument(
        "--self-test", action="store_true", help="open the window, load a customer, print JSON"
    )
    parser.add_argument(
        "--check-gui",
        action="store_true",
        help="say whether the window can open here (system libraries, display) and exit",
    )
    parser.add_argument(
        "--theme",
        choices=("system", "light", "dark"),
        default="system",
        help="colour scheme (default: follow the OS)",
    )
    parser.add_argument("--version", action="version", version=f"Rapport {__version__}")
    return parser


class _QtMessages:
    """Qt's messages go to the log; a fatal one (no platform plugin) also to the terminal.

    Qt aborts right after a fatal message, with nothing on the terminal: say why in one
    line first (the missing libraries and the command that installs them), then exit 1.
    """

    def __init__(self, log_file: Path | None) -> None:
        self.log_file = log_file

    def __call__(self, mode: QtMsgType, _context: Any, message: str) -> None:
        level = {
            QtMsgType.QtDebugMsg: logging.DEBUG,
            QtMsgType.QtInfoMsg: logging.INFO,
            QtMsgType.QtWarningMsg: logging.WARNING,
        }.get(mode, logging.ERROR)
        logging.getLogger("qt").log(level, "%s", message)
        if mode == QtMsgType.QtFatalMsg:
            from ui.gui_check import diagnose

            reason = diagnose() or message.splitlines()[0]
            _print_start_failure(reason, self.log_file)
            logging.shutdown()
            os._exit(1)


def _print_start_failure(reason: str, log_file: Path | None) -> None:
    where = f"details in {log_file}" if log_file else "details above"
    print(f"rapport: the window cannot open: {reason} ({where})", file=sys.stderr, flush=True)


def _bring_to_front(window: MainWindow) -> None:
    if window.isMinimized():
        window.showNormal()
    window.raise_()
    window.activateWindow()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    pending_call: HandoffRequest | None = None
    if is_handoff_argv(argv):
        # A softphone ran `rapport pop NUMBER`, opened a rapport:// URL, or a tel: link.
        try:
            pending_call = parse_handoff_args(argv)
        except ValueError as exc:
            print(f"rapport: {exc}", file=sys.stderr)
            return 2
        argv = []
    args = _parser().parse_args(argv)
    if args.check_gui:
        from ui.gui_check import main as check_gui

        return check_gui([])
    try:
        settings = load_settings(cli={"db_url": None if args.demo else args.db})
        if args.demo:
            settings = type(settings)(
                values={**settings.values, "db_url": None},
                sources={**settings.sources, "db_url": "--demo"},
            )
    except UserError as exc:
        print(f"rapport: {exc}", file=sys.stderr)
        return 2
    log_file = setup_logging(log_dir(settings.log_dir))
    sys.excepthook = log_unhandled  # until the crash dialog can be shown
    qInstallMessageHandler(_QtMessages(log_file))
    # A check or a measurement runs beside the agent's Rapport instead of handing over.
    single = not args.self_test and not os.environ.get("RAPPORT_STARTUP_PROBE")

    # Before QApplication: handing over needs only a local socket, and must work where
    # no window could open (a softphone hook without a display).
    if pending_call is not None:
        try:
            if hand_off(pending_call):
                return 0  # the running instance pops it
        except ValueError as exc:
            print(f"rapport: the running Rapport refused it: {exc}", file=sys.stderr)
            return 2
    elif single and activate_running_instance():
        print("rapport: Rapport is already running; its window was brought to the front")
        return 0
    try:
        return _run(args, settings, log_file, pending_call, single)
    except Exception as exc:
        # Anything between here and a shown window: one line on the terminal, the stack
        # in the log (the crash dialog takes over once the window is up).
        log.exception("start-up failed")
        _print_start_failure(f"{type(exc).__name__}: {exc}", log_file)
        return 1


def _run(
    args: argparse.Namespace,
    settings: Settings,
    log_file: Path | None,
    pending_call: HandoffRequest | None,
    single: bool,
) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Rapport")
    app.setOrganizationName("Rapport")
    app.setApplicationVersion(__version__)
    apply_theme(app, args.theme)
    if args.theme == "system":
        follow_system_scheme(app)

    collector = GuiThreadGarbageCollector(app)
    import qasync  # after QApplication: it binds to the running Qt

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    bridge = DatabaseBridge()
    window = MainWindow(settings, bridge)
    window.show()
    from ui.crash_dialog import CrashReporter

    crash_reporter = CrashReporter(settings, log_file, window)
    crash_reporter.install(loop)
    if os.environ.get("RAPPORT_STARTUP_PROBE"):
        # bench.startup: report the first paint of the window, then quit.
        QTimer.singleShot(0, lambda: _report_first_paint(window, app))
    result: dict[str, Any] = {"code": 0}

    telephony = TelephonyHub(settings, app)
    telephony.lookup_requested.connect(window.look_up)
    telephony.activate_requested.connect(lambda: _bring_to_front(window))
    telephony.status_changed.connect(window.indicators.adapter_status.set_status)
    window.calls.telephony = telephony  # click-to-call dials through it
    # Calls that ring while the core loads and the database connects wait here, in
    # order, and pop once the services are up (the hand-off server listens at once).
    early_calls: list[CallEvent] = [pending_call] if isinstance(pending_call, CallEvent) else []

    def hold_call(event: CallEvent) -> None:
        early_calls.append(event)

    telephony.call_event.connect(hold_call)

    async def start() -> None:
        if not telephony.start() and single:
            # Started at the same moment as another instance, which listened first.
            if pending_call is not None:
                hand_off(pending_call)
            activate_running_instance()
            print("rapport: Rapport is already running; its window was brought to the front")
            window.close()
            app.quit()
            return
        await window.connect_database()
        if isinstance(pending_call, LookupRequest):
            window.look_up(pending_call.number)
        telephony.call_event.disconnect(hold_call)
        telephony.call_event.connect(window.calls.handle_call)
        for event in early_calls:
            window.calls.handle_call(event)
        early_calls.clear()

    # Connect after the first paint, so the window is up before any I/O.
    QTimer.singleShot(0, lambda: bridge.spawn(start()))
    if args.self_test:
        bridge.spawn(_self_test(window, app, result))

    closing = asyncio.Event()
    app.aboutToQuit.connect(closing.set)
    try:
        with loop:
            loop.run_until_complete(closing.wait())
            loop.run_until_complete(telephony.stop())
            loop.run_until_complete(window.connection.stop_feed())  # else bridge.shutdown
            # An approver who quits is "away" at once, not when the heartbeat goes stale.
            loop.run_until_complete(window.approvals.leave())
    finally:
        crash_reporter.uninstall()
        window.keep_drafts_now()  # the last keystrokes, whichever way the app quits
        bridge.shutdown()
        window.connection.close()
        collector.stop()
    return int(result["code"])


def _report_first_paint(window: MainWindow, app: QApplication) -> None:
    window.repaint()
    print(f"RAPPORT_FIRST_PAINT {time.perf_counter() * 1000:.1f}", flush=True)
    QTimer.singleShot(0, app.quit)


async def _self_test(window: MainWindow, app: QApplication, result: dict[str, Any]) -> None:
    started = time.perf_counter()
    checks: list[str] = ["main window shown"]
    report: dict[str, Any] = {"ok": False, "version": __version__}
    try:
        ready = asyncio.Event()
        window.ready.connect(ready.set)
        if window.services is None and window.connection.error is None:
            await asyncio.wait_for(ready.wait(), SELF_TEST_TIMEOUT_S)
        if window.connection.error or window.services is None:
            raise DatabaseError(window.connection.error or "not connected")
        services = window.services
        report["backend"] = services.backend
        report["db"] = services.engine.url.render_as_string(hide_password=True)
        checks.append(f"database connected ({services.backend})")
        from models.migrate import head_revision  # Alembic: loaded with the services

        checks.append(f"schema at {head_revision()}")
        hits = await window.bridge.run(services.search.search, STORY_PHONE)
        customer_id = (
            hits[0].customer_id
            if hits
            else await window.bridge.run(services.customers.first_customer_id)
        )
        if customer_id is None:
            raise UserError("the database holds no customer to load")
        panel = await window.tabs.load_customer(customer_id)
        if panel is None:
            raise UserError(f"customer {customer_id} could not be loaded")
        await asyncio.sleep(0.05)  # let queued layout and paint events run
        image = panel.grab()
        if image.isNull():
            raise UserError("the customer view did not paint")
        checks.append(f"customer loaded: {panel.data.header.name} (id {customer_id})")
        checks.append(f"customer view painted ({image.width()}x{image.height()})")
        from app.self_check import case_rules  # loaded with the services

        checks.append(await window.bridge.run(case_rules))
        report.update(ok=True, customer=panel.data.header.name)
    except (DatabaseError, UserError, TimeoutError) as exc:
        report["reason"] = str(exc) or "timed out"
        result["code"] = 1
    except Exception as exc:
        log.exception("self-test failed")
        report["reason"] = f"{type(exc).__name__}: {exc}"
        result["code"] = 1
    report["checks"] = checks
    report["elapsed_ms"] = round((time.perf_counter() - started) * 1000)
    print(json.dumps(report), flush=True)
    window.close()
    app.quit()


if __name__ == "__main__":
    raise SystemExit(main())
