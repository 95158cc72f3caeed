"""`nasforge dashboard`: serve the read-only study dashboard of one SQLite file."""

from __future__ import annotations

import typer

from ..errors import ConfigError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def dashboard(
    storage: str = typer.Option("nasforge.db", help="SQLite file holding the studies"),
    host: str = typer.Option("127.0.0.1", help="address to bind (loopback unless --allow-remote)"),
    port: int = typer.Option(8080, help="TCP port (0: any free port)"),
    poll: float = typer.Option(2.0, help="seconds between page updates"),
    allow_remote: bool = typer.Option(
        False, "--allow-remote", help="allow a non-loopback --host (there is no authentication)"
    ),
) -> None:
    """Web view of the studies in a file, updating live while they run (read-only)."""
    if host not in LOOPBACK and not allow_remote:
        raise ConfigError(
            f"--host {host!r} is not a loopback address; the dashboard has no authentication, so "
            "pass --allow-remote to serve it on another interface"
        )
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be in 0..65535, got {port}")
    if poll <= 0:
        raise ConfigError(f"--poll must be > 0 seconds, got {poll}")
    import socket

    import uvicorn

    from ..dashboard import create_app

    app = create_app(storage, poll_seconds=poll)
    if host not in LOOPBACK:
        typer.echo(f"warning: serving on {host} without authentication: anyone who can reach "
                   "this port can read every study in the file", err=True)  # fmt: skip
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)  # connections queue from now on, so the printed URL works at once
    except OSError as exc:
        raise ConfigError(f"cannot bind {host}:{port}: {exc.strerror}") from None
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"nasforge dashboard for {storage}: http://{shown}:{sock.getsockname()[1]}/", err=False)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[sock])
