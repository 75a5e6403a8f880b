"""The composition root: ``Settings`` in, a run built and run.

It opens the inputs (files, followed files, workers for a large file, listeners), loads
a ``--state`` checkpoint, opens a ``--store`` (``store/run.py``), builds the notifiers
(text or JSON on stdout, the report, the live server, the dashboard, alert forwarding,
the progress line), hands them to the ``Monitor`` and runs it under the run's signal
handlers: SIGINT and SIGTERM ask it to stop (it prints its summary), and SIGHUP too;
SIGUSR1 makes followed files be looked at again.  ``--from-store`` reads a store
instead (``store/reader.py``).  Files named on the command line (``--listen-auth
@FILE``) are read here, at start.

Nothing here decides an exit status: errors are raised to ``cli`` (``cli/__init__.py``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import IO, TYPE_CHECKING, TextIO

from .calculators.panels import chunk_minute_panels, chunk_panels
from .checkpoint import atomic
from .checkpoint.state import DAMAGE, Saved, StateFile
from .credentials import with_credentials
from .errors import StateError, UsageError
from .inputs import Position, Source, open_source
from .inputs.listen import Listener, ListenOptions, open_listeners
from .net.addresses import reachable_from_outside
from .inputs.parallel import parallel_source, worker_options
from .output import GuardedStream, Notifier, Tee
from .output.html.report import ReportNotifier
from .output.jsonlines import JsonLinesNotifier
from .output.progress import PROGRESS_BYTES, ProgressLine
from .output.text import TextNotifier
from .pipeline.monitor import Monitor
from .reports import Summary
from .settings import Settings
from .words import local_time, printable

if TYPE_CHECKING:  # (ssl, the live server, curses, sqlite3: imported only when used)
    import ssl

    from .output.dashboard import DashboardNotifier
    from .output.html.live import LiveServer, ServeNotifier
    from .store.api import RecordApi
    from .store.run import StoredRun

PROG = "LogsMonitor2000"


class Run:
    """One run: ``run`` builds it and runs the monitor; ``close`` releases what it
    opened (inputs, the live server, the terminal), whatever happened."""

    def __init__(
        self,
        settings: Settings,
        *,
        stdout: TextIO,
        stderr: TextIO,
        stdin: IO[bytes] | None = None,
    ) -> None:
        self.settings = settings
        self.checkpoint: StateFile | None = None
        self.stdout = stdout
        self.stderr = stderr
        self.stdin = stdin
        self.sources: list[Source] = []
        self.progress: list[ProgressLine] = []  # (cleared before anything else is said)
        self.views = _Views(settings, self.warn)
        self.monitor: Monitor | None = None
        self.stored: StoredRun | None = None

    def warn(self, message: str) -> None:
        """One line on stderr (the progress line cleared first)."""
        for line in self.progress:
            line.clear()
        try:
            print(f"{PROG}: {printable(message)}", file=self.stderr, flush=True)
        except (OSError, ValueError):  # (its terminal hung up: nobody to tell)
            pass

    def run(self) -> Summary:
        settings = with_credentials(self.settings, self.warn)
        self.views.settings = settings
        warn, sources = self.warn, self.sources
        if settings.from_store is not None:
            from .store.reader import replay

            self.views.open()
            return replay(settings, _notifier(settings, self.stdout, warn), self.views.report)
        checkpoint, saved = _load_state(settings, self)
        starts = saved.positions if saved is not None else [None] * len(settings.paths)
        for path, start in zip(settings.paths, starts):
            sources.append(_open(settings, path, start, warn, self.stdin))
        if settings.store is not None:
            from .store.run import StoredRun

            _not_an_input("--store", settings.store, settings)
            self.stored = StoredRun(settings, warn)
        stored = self.stored
        sources += _listeners(settings, warn, stored.api if stored else None)
        self.views.open()
        base = _notifier(settings, self.stdout, warn)
        notifier = self.views.around(base)
        if _shows_progress(settings, sources, self.stderr):
            self.progress.append(ProgressLine(self.stderr, lambda: _measured(sources, monitor)))
            notifier = Tee([self.progress[0], notifier])
        if stored is not None:
            notifier = stored.around(notifier)
        monitor = self.monitor = Monitor(
            settings,
            notifier,
            warn=warn,
            checkpoint=checkpoint,
            attach=stored.windows if stored else None,
        )
        if stored is not None:
            stored.monitor = monitor
        names = [
            *settings.paths,
            *(source.url for source in sources if isinstance(source, Listener)),
        ]
        monitor.add_inputs(names, sources)
        for stage in monitor.inputs:
            stage.count_lines = bool(self.progress)
        self.views.watch(monitor, base)
        if saved is not None:
            _restore(monitor, saved)
            for message in _resumed(monitor, saved):
                warn(message)
        if self.views.served is not None and stored is not None:
            stored.prime(self.views.served, restored=saved is not None)
        with _signals(monitor):
            return monitor.run()

    @property
    def failed(self) -> bool:
        """Whether an output the run had to leave behind could not be written."""
        return self.views.report is not None and self.views.report.failed

    def close(self) -> None:
        for source in self.sources:
            source.close()
        self.views.close()
        if self.stored is not None:
            self.stored.close()
        if self.checkpoint is not None:  # (another run of this process may use it next)
            self.checkpoint.release()


def _open(
    settings: Settings,
    path: str,
    start: Position | None,
    warn: Callable[[str], None],
    stdin: IO[bytes] | None,
) -> Source:
    """The input for ``path``: followed, read by workers (a large finished file), or
    read to its end."""
    if not settings.follow:
        parallel = parallel_source(
            path,
            settings.log_format,
            lateness=settings.lateness,
            selection=settings.selection,
            jobs=settings.jobs,
            format_string=settings.format_string,
            json_fields=settings.json_fields,
            **worker_options(settings, chunk_minute_panels if settings.store else chunk_panels),
        )
        if parallel is not None:
            return parallel
    return open_source(
        path,
        follow=settings.follow,
        from_end=settings.from_end,
        start=start,
        warn=warn,
        stdin=stdin,
    )


def _load_state(settings: Settings, run: Run) -> tuple[StateFile | None, Saved | None]:
    if settings.state is None:
        return None, None
    checkpoint = StateFile(
        settings.state,
        logs=settings.paths,
        # What decides the counts (display-only options - --top, --output, colour, -v
        # - may change from one run to the next).
        settings={
            "stats_interval": settings.stats_interval,
            "alert_window": settings.alert_window,
            "threshold": settings.threshold,
            "buffer": settings.lateness,
            "slow_ms": settings.slow_ms,
            "alerts": [spec.to_json() for spec in settings.alerts],
            "format_string": settings.format_string,
            "json_fields": settings.json_fields,
            "selection": settings.selection.to_json(),
            "anonymize": settings.anonymize,
        },
    )
    checkpoint.claim(settings.paths)
    run.checkpoint = checkpoint
    saved = None if settings.state_reset else checkpoint.load()
    checkpoint.check_writable()
    return checkpoint, saved


def _restore(monitor: Monitor, saved: Saved) -> None:
    try:
        monitor.restore(saved.monitor)
    except DAMAGE:  # (what was wrong is not shown: it may be text from the log)
        raise StateError(
            f"{monitor.settings.state} is damaged; --state-reset starts over"
        ) from None


def _resumed(monitor: Monitor, saved: Saved) -> list[str]:
    """Where a restart carries on from, for stderr: a line per input."""
    messages = []
    for stage, position in zip(monitor.inputs, saved.positions):
        if position is None:
            continue
        where = f"byte {position.offset:,}"
        if position.lines is not None:
            where = f"line {position.lines + 1:,} ({where})"
        newest = stage.reorderer.newest if stage.reorderer is not None else None
        clock = "" if newest is None else f"; log time {local_time(newest)}"
        messages.append(f"resuming {stage.name} at {where}{clock}")
    return messages


def _text(settings: Settings, stdout: TextIO) -> Notifier:
    color = settings.color
    if color is None:
        color = stdout.isatty() and "NO_COLOR" not in os.environ
    return TextNotifier(GuardedStream(stdout), color=color and "NO_COLOR" not in os.environ)


def _json(settings: Settings, stdout: TextIO) -> Notifier:
    return JsonLinesNotifier(GuardedStream(stdout))


#: What standard output shows, by ``--output``: a new output is a module in ``output/``,
#: a line here and its choice in ``cli/options.py``.
OUTPUTS: dict[str, Callable[[Settings, TextIO], Notifier]] = {"text": _text, "json": _json}


def _notifier(settings: Settings, stdout: TextIO, warn: Callable[[str], None]) -> Notifier:
    notifier: Notifier
    if settings.dashboard:  # (it takes the terminal: the summary is printed at the end)
        from .output.dashboard import DashboardNotifier

        if not stdout.isatty():
            raise UsageError("--dashboard needs a terminal: standard output is not one")
        notifier = DashboardNotifier(
            GuardedStream(stdout),
            interval=settings.stats_interval,
            color="NO_COLOR" not in os.environ,
        )
    else:
        notifier = OUTPUTS[settings.output](settings, stdout)
    if settings.alertmanager is not None:
        from .output.alertmanager import AlertmanagerClient, AlertmanagerNotifier

        client = AlertmanagerClient(
            settings.alertmanager, warn=warn, resend=settings.alertmanager_resend
        )
        notifier = AlertmanagerNotifier(notifier, client)
    if settings.alert_url is None and settings.alert_log is None:
        return notifier
    from .output import forward  # ssl, http.client, logging: only when alerts leave

    if settings.alert_log is not None:
        _not_an_input("--alert-log", settings.alert_log, settings)
    forwarder = forward.AlertForwarder(
        url=settings.alert_url, log_path=settings.alert_log, warn=warn
    )
    return forward.ForwardingNotifier(notifier, forwarder)


def _shows_progress(settings: Settings, sources: Sequence[Source], stderr: TextIO) -> bool:
    """A progress line on stderr: a terminal, large finished files, not --quiet."""
    if settings.quiet or settings.dashboard or settings.follow or not _is_terminal(stderr):
        return False
    sizes = [progress[1] for source in sources if (progress := source.progress())]
    return sum(sizes) >= PROGRESS_BYTES


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _measured(sources: Sequence[Source], monitor: Monitor) -> tuple[int, int, int]:
    """(bytes read, bytes in all, lines read) of the inputs, for the progress line."""
    done = total = 0
    for source in sources:
        progress = source.progress()
        if progress is not None:
            done, total = done + progress[0], total + progress[1]
    return done, total, sum(stage.lines_read for stage in monitor.inputs)


class _Views:
    """The report and the live server, around the notifier of stdout."""

    def __init__(self, settings: Settings, warn: Callable[[str], None]) -> None:
        self.settings = settings
        self.warn = warn
        self.report: ReportNotifier | None = None
        self.server: LiveServer | None = None
        self.served: ServeNotifier | None = None
        self.dashboard: DashboardNotifier | None = None

    def open(self) -> None:
        """Check the report's path, bind the server (``UsageError`` when they can't)."""
        settings = self.settings
        if settings.report is not None:
            self.report = _report(settings, self.warn)
        if settings.serve is not None:
            from .output.html.live import ServeNotifier

            self.server = _server(settings)
            self.served = ServeNotifier(self.server, interval=settings.stats_interval)
            self.server.start()
            self.warn(f"serving {self.server.url}")
            if reachable_from_outside(settings.serve[0]) and settings.serve_auth is None:
                self.warn(
                    f"warning: {self.server.url} is reachable from other machines and asks "
                    "for no credentials: add --serve-auth"
                )

    def around(self, notifier: Notifier) -> Notifier:
        extra: list[Notifier] = [n for n in (self.report, self.served) if n is not None]
        return Tee([notifier, *extra]) if extra else notifier

    def watch(self, monitor: Monitor, base: Notifier) -> None:
        """Give the views what they show besides the records; take the terminal for
        the dashboard."""
        if self.settings.dashboard:
            import curses

            from .output.dashboard import DashboardNotifier

            assert isinstance(base, DashboardNotifier)
            self.dashboard = base
            base.probe, base.on_quit = monitor.live, monitor.quit
            try:
                base.open()
            except curses.error as error:
                raise UsageError(f"--dashboard can't use this terminal: {error}") from None
        if self.report is not None:
            self.report.summary_so_far = monitor.summary
        if self.served is not None:
            self.served.probe = monitor.live

    def close(self) -> None:
        if self.dashboard is not None:
            self.dashboard.close()
        if self.server is not None:
            self.server.stop()


def _report(settings: Settings, warn: Callable[[str], None]) -> ReportNotifier:
    path = settings.report
    assert path is not None
    if os.path.isdir(path):
        raise UsageError(f"--report {path} is a directory")
    try:
        atomic.check_writable(path)
    except OSError as error:
        raise UsageError(f"cannot write the report {path}: {error.strerror or error}") from None
    _not_an_input("--report", path, settings)
    return ReportNotifier(path, interval=settings.stats_interval, live=settings.follow, warn=warn)


def _not_an_input(option: str, path: str, settings: Settings) -> None:
    """``UsageError`` when the file ``path`` (which the run writes) is an input, under
    another name (a link) too."""
    for other in settings.paths:
        if other != "-" and os.path.exists(path) and _same_file(other, path):
            raise UsageError(f"{option} {path} is one of the inputs")


def _same_file(one: str, other: str) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def _tls(settings: Settings) -> ssl.SSLContext | None:
    """The server side of TLS, from ``--tls-cert`` and ``--tls-key`` (None: none)."""
    if settings.tls_cert is None:
        return None
    import ssl

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        tls.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "strerror", None) or error
        raise UsageError(f"cannot use --tls-cert {settings.tls_cert}: {reason}") from None
    return tls


def _listeners(
    settings: Settings, warn: Callable[[str], None], api: RecordApi | None
) -> list[Source]:
    """The listeners of ``--listen``, bound and started; the HTTP ones also serve
    ``api``."""
    if not settings.listen:
        return []
    options = ListenOptions(
        credentials=settings.listen_auth, max_body=settings.max_body, tls=_tls(settings), api=api
    )
    return list(open_listeners(settings.listen, options, warn))


def _server(settings: Settings) -> LiveServer:
    from .output.html.live import LiveServer

    assert settings.serve is not None
    tls = _tls(settings)
    host, port = settings.serve
    try:
        return LiveServer((host, port), credentials=settings.serve_auth, tls=tls)
    except OSError as error:
        raise UsageError(
            f"--serve {_shown_address(host, port)}: cannot listen there: {error.strerror or error}"
        ) from None


@contextlib.contextmanager
def _signals(monitor: Monitor) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP (its terminal closed) ask the monitor to stop (and
    print its summary); SIGUSR1 makes followed files be looked at again (logrotate's
    postrotate, as nginx reopens its logs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        monitor.request_stop(signum)

    def reopen(signum: int, frame: FrameType | None) -> None:
        for stage in monitor.inputs:
            stage.source.reopen()

    handlers = {signal.SIGINT: stop, signal.SIGTERM: stop}
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:  # (nohup: it stays so)
        handlers[signal.SIGHUP] = stop
    if any(stage.source.live for stage in monitor.inputs):
        handlers[signal.SIGUSR1] = reopen
    previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _shown_address(host: str, port: int) -> str:
    """``--serve``'s address as it was given (``:8080`` for every interface)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
