"""The ``leadroute`` console script: one Typer app, one module per command.

Each command module exposes ``register(app)``; adding a command is one line in
``COMMANDS`` (command name → module). Modules are imported only when their command runs
(or for ``--help``), so ``leadroute route`` never loads the backtest, Spark or service
layers. A command whose module needs a missing extra still exists: it exits 2 with one
line naming the extra. Errors of the LeadrouteError family become a one-line message and
exit code 2.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from solver.errors import LeadrouteError

COMMANDS: dict[str, str] = {
    "demo": "solver.app.commands.demo",
    "route": "solver.app.commands.route",
    "fit": "solver.app.commands.fit",
    "data": "solver.app.commands.data",
    "backtest": "solver.app.commands.backtest",
    "sweep": "solver.app.commands.sweep",
    "experiment": "solver.app.commands.experiment",
    "outcomes": "solver.app.commands.learning",
    "history": "solver.app.commands.learning",
    "refit": "solver.app.commands.learning",
    "match": "solver.app.commands.match",
    "accounts": "solver.app.commands.accounts",
    "load-reps": "solver.app.commands.service",
    "ingest": "solver.app.commands.service",
    "run-batch": "solver.app.commands.service",
    "worker": "solver.app.commands.service",
    "serve": "solver.app.commands.service",
    "status": "solver.app.commands.service",
    "db": "solver.app.commands.db",
    "absences": "solver.app.commands.absences",
}

# the top-level package a missing import names → the extra that installs it
EXTRA_OF_PACKAGE: dict[str, str] = {
    "sqlalchemy": "service", "fastapi": "service", "uvicorn": "service", "httpx": "service",
    "psycopg": "service", "alembic": "service", "prometheus_client": "service",
    "pythonjsonlogger": "service", "holidays": "service", "icalendar": "service",
    "starlette": "service", "jinja2": "service", "multipart": "service",
    "pyspark": "spark", "matplotlib": "plots",
    "rapidfuzz": "match", "tldextract": "match", "cleanco": "match",
}


def missing_extra(exc: ImportError) -> str | None:
    """The extra to install for this ImportError, or None when it is not a missing extra."""
    root = (exc.name or "").split(".")[0]
    return EXTRA_OF_PACKAGE.get(root)


def _needs_extra(name: str, extra: str) -> Any:
    """A stand-in for a command whose extra is not installed: any arguments, exit 2."""
    sub = typer.Typer()

    @sub.command(name, help=escape(f"(needs pip install 'leadroute[{extra}]')"),
                 add_help_option=False,
                 context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    def explain(ctx: typer.Context) -> None:
        typer.echo(f"error: `leadroute {name}` needs the {extra} extra: "
                   f"pip install 'leadroute[{extra}]'", err=True)
        raise typer.Exit(2)

    return typer.main.get_group(sub).commands[name]


class LazyGroup(TyperGroup):
    """Imports a command's module the first time click asks for the command."""

    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        return list(dict.fromkeys([*super().list_commands(ctx), *COMMANDS]))

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:  # type: ignore[override]
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, cmd_name: str) -> None:
        try:
            module: Any = importlib.import_module(COMMANDS[cmd_name])
        except ImportError as exc:
            extra = missing_extra(exc)
            if extra is None:
                raise
            self.add_command(_needs_extra(cmd_name, extra))
            return
        sub = typer.Typer()
        module.register(sub)
        group = typer.main.get_group(sub)
        for name, command in group.commands.items():
            self.commands.setdefault(name, command)


app = typer.Typer(
    name="leadroute",
    help="Route sales leads to reps by optimisation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)


@app.callback()
def _root() -> None:
    """Route sales leads to reps by optimisation."""


def main() -> None:
    try:
        app(standalone_mode=True)
    except LeadrouteError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except ImportError as exc:  # a command importing part of an extra as it runs
        extra = missing_extra(exc)
        if extra is None:
            raise
        typer.echo(f"error: {exc.name} is not installed; this command needs the {extra} "
                   f"extra: pip install 'leadroute[{extra}]'", err=True)
        sys.exit(2)
