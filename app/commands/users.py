"""`fundledger users ...` and `fundledger tokens ...` (moved out of app/cli.py as they were)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.clock import SystemClock
from app.commands.common import _cli_principal, _factory
from app.db import transaction

users_cli = typer.Typer(no_args_is_help=True, help="users")
tokens_cli = typer.Typer(no_args_is_help=True, help="bearer tokens")


@users_cli.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="hospital, operator, accountant, auditor or admin")],
    institution: Annotated[
        str | None, typer.Option(help="institution code (hospital role)")
    ] = None,
) -> None:
    """Create a user (a person or a system client)."""
    from app.auth import service

    with transaction(_factory()) as session:
        service.create_user(
            session,
            name=name,
            role=role,
            fixmedins_code=institution,
            actor=_cli_principal(),
            now=SystemClock().now(),
        )
    typer.echo(f"user {name} ({role}) created")


@users_cli.command("passwd")
def users_passwd(
    name: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Set the console password of user NAME (prompted twice, or one line on stdin)."""
    import sys

    from app import models  # noqa: F401 - every table known (app_user refers to institution)
    from app.auth import logins
    from app.errors import DomainError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        with transaction(_factory()) as session:
            logins.set_password(
                session,
                name=name,
                password=password,
                actor=_cli_principal(),
                now=SystemClock().now(),
            )
    except DomainError as error:
        typer.echo(f"refused: {error.detail}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"password of {name} set")


@tokens_cli.command("issue")
def tokens_issue(name: str) -> None:
    """Print a new bearer token for user NAME (shown once, stored only as a hash)."""
    from app.auth import service

    with transaction(_factory()) as session:
        _, token = service.issue_token(
            session, name=name, actor=_cli_principal(), now=SystemClock().now()
        )
    typer.echo(token)


@tokens_cli.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by its id."""
    from app.auth import service

    with transaction(_factory()) as session:
        service.revoke_token(
            session, token_id=token_id, actor=_cli_principal(), now=SystemClock().now()
        )
    typer.echo(f"token {token_id} revoked")
