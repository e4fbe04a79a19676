"""Console entry point. `seeknal hook ...` and the common command lines that cli/quick.py knows
(`--help` on a plain output, `env current`, plain `plan`, `promote` and `run`) are answered
before the CLI framework is imported, so that git hooks and these stay fast."""

from __future__ import annotations

import gc
import sys


def main() -> None:
    try:
        _answer()
    except KeyboardInterrupt:  # Ctrl-C before a command's own handling (while importing)
        _settled()
        message, hint = "Interrupted (Ctrl-C).", "Run the command again."
        journal = sys.modules.get("seeknal.state.journal")  # a promotion it may have made
        if journal is not None:
            done = journal.interrupted_since(0)
            message, hint = done.message, done.hint
        sys.stderr.write(f"Error: {message}\nNext: {hint}\n")
        _leave(INTERRUPTED)
    except SystemExit as exc:
        _settled()  # the command has answered: a Ctrl-C now changes neither output nor code
        if exc.code == INTERRUPTED:
            _leave(INTERRUPTED)
        raise
    finally:
        # the process ends with the command: the collector's last pass over everything the
        # command built would free nothing (~20 ms after a plan of 10,000 nodes)
        gc.freeze()


INTERRUPTED = 130  # the exit code of a command Ctrl-C stopped


def _leave(code: int) -> None:
    """End a command Ctrl-C stopped, once it has said so, without the interpreter's shutdown.
    A thread the interrupt left inside DuckDB (opening a database, a query it stopped) or
    waiting for an import the interrupt cut short would make that shutdown abort the process
    (exit 134) or wait forever. What the command wrote is flushed and the exit handlers run
    (a forked helper is reaped, temporary folders go); nothing else is left to do."""
    import atexit
    import os

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader gone (`| head`), a stream closed
            pass
    os._exit(code)


def _settled() -> None:
    """SIGINT ignored from here to the exit (`_signal`, built in: nothing imported)."""
    import _signal

    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)


def _answer() -> None:
    if sys.argv[1:3] == ["hook", "post-checkout"]:
        from seeknal.git.checkout import main as checkout_main

        sys.exit(checkout_main(sys.argv[3:]))
    if len(sys.argv) > 1 and sys.argv[1] == "hook":
        from seeknal.cli.hook_entry import main as hook_main

        sys.exit(hook_main(sys.argv[2:]))
    import seeknal

    seeknal.command_line = True  # may fork sqlglot's importer (seeknal/sql/ahead.py)
    from seeknal.cli.quick import answer

    code = answer(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from seeknal.cli.main import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
