"""The `landready` command (CONTRACT §1): exit 0 success, 2 bad input (one line naming where), 1 internal error."""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from gis.errors import InputError

app = typer.Typer(
    name="landready",
    help="开发区三清审计与标准地就绪度 — 三清 audit and 标准地 readiness for county development zones.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
token_app = typer.Typer(help="访问令牌 — bearer tokens for the API.", no_args_is_help=True)
app.add_typer(token_app, name="token")

err = Console(stderr=True, highlight=False, soft_wrap=True)
# no markup on stdout: ids, names and paths are printed as given ("[1]号地块" is not a style tag)
out = Console(highlight=False, soft_wrap=True, markup=False)

F = TypeVar("F", bound=Callable[..., Any])

#: the demo zone's reporting date: the diagnosis of its 2025 work report is made as of this day
DEMO_AS_OF = date(2025, 8, 31)


def _guard(fn: F) -> F:
    """Turn a user's mistake into one line and exit 2; anything else is an internal error, exit 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            err.print(f"[bold red]输入错误 input error[/]: {escape(str(exc))}")
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            err.print(f"[bold red]内部错误 internal error[/]: {type(exc).__name__}: {escape(str(exc))}")
            if "--debug" in sys.argv:
                raise
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _as_of(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--as-of must be a date YYYY-MM-DD, got {value!r}", field="--as-of") from None


@contextmanager
def _steps() -> Iterator[Callable[[str], None]]:
    """Show the current step with a spinner on a terminal; silent otherwise."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("", total=None)

        def step(text: str) -> None:
            progress.update(task, description=text)

        yield step


BundleArg = Annotated[Path, typer.Argument(help="bundle directory or GeoPackage 数据包目录或 GeoPackage")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="evaluation date YYYY-MM-DD (default today) 评价日期")
]
OutDir = Annotated[Path, typer.Option("--out", help="output directory 输出目录")]


def _read(bundle: Path, step: Callable[[str], None]) -> Any:
    if not bundle.exists():
        raise InputError("no such file or directory", file=bundle)
    from gis.io import read_bundle

    step(f"读取数据包 reading {bundle}")
    return read_bundle(bundle)


def _write_audit(data: Any, as_of: date, target: Path, step: Callable[[str], None]) -> dict[str, Any]:
    from gis.audit import run_audit
    from gis.audit.write import write_audit_outputs
    from gis.pipeline import zone_rules

    step("三清审计 auditing")
    result = run_audit(data, as_of, zone_rules(data))
    step("写出台账 writing outputs")
    write_audit_outputs(result, target)
    return result.summary


def _write_readiness(data: Any, as_of: date, target: Path, step: Callable[[str], None]) -> Any:
    from gis.outputs import write_geojson
    from gis.pipeline import zone_rules
    from gis.readiness import run_readiness

    step("标准地就绪度 readiness")
    readiness = run_readiness(data, as_of, zone_rules(data))
    write_geojson(readiness, target / "readiness.geojson")
    return readiness


def _print_summary(summary: dict[str, Any]) -> None:
    totals = summary.get("totals", {})
    names = {"approved_unsupplied": "批而未供", "idle": "闲置土地", "low_efficiency": "低效用地"}
    for key, label in names.items():
        t = totals.get(key) or {}
        if t.get("mu") is None:
            out.print(f"{label} {key}: —")
            continue
        out.print(
            f"{label} {key}: {t['mu']:,.1f} 亩 ({t.get('ha') or 0:,.2f} 公顷), {t.get('count') or 0} 宗"
        )
    intensity = summary.get("industrial_development_intensity") or {}
    if intensity.get("value") is not None:
        out.print(
            f"工业用地开发强度 industrial development intensity: {intensity['value']:.1%}"
            f" (省基准 benchmark {intensity['province_benchmark']:.0%})"
        )
    rate = summary.get("five_year_supply_rate")
    if rate is not None:
        out.print(f"近五年供地率 five-year supply rate: {rate:.1%}")


@app.command()
@_guard
def audit(bundle: BundleArg, out_dir: OutDir, as_of: AsOfOpt = None) -> None:
    """三清审计：批而未供、闲置、低效 — writes audit.geojson, unsupplied.geojson, batches.csv, summary.json, ledger.xlsx."""
    from gis.outputs import atomic_dir

    day = _as_of(as_of)
    with _steps() as step:
        data = _read(bundle, step)
        with atomic_dir(out_dir) as tmp:
            summary = _write_audit(data, day, tmp, step)
    _print_summary(summary)
    out.print(f"已写出 written: {out_dir}")


@app.command()
@_guard
def readiness(bundle: BundleArg, out_dir: OutDir, as_of: AsOfOpt = None) -> None:
    """标准地就绪度：每宗未供地块还缺什么 — writes readiness.geojson."""
    from gis.outputs import atomic_dir

    day = _as_of(as_of)
    with _steps() as step:
        data = _read(bundle, step)
        with atomic_dir(out_dir) as tmp:
            result = _write_readiness(data, day, tmp, step)
    # what readiness cannot check (parcels off a raster, repaired geometries) is not in readiness.geojson: say it
    for warning in [*data.warnings, *result.attrs.get("warnings", [])]:
        err.print(f"[yellow]警告 warning[/]: {escape(str(warning))}")
    examined = result[result["readiness_tier"] != "supplied"]
    for tier, n in examined["readiness_tier"].value_counts().items():
        out.print(f"{tier}: {n}")
    out.print(f"已写出 written: {out_dir / 'readiness.geojson'}")


@app.command()
@_guard
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="output directory")] = Path("landready-demo"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="do not start the web app")] = False,
    port: Annotated[int, typer.Option("--port")] = 8000,
    as_of: Annotated[str, typer.Option("--as-of", help="evaluation date")] = DEMO_AS_OF.isoformat(),
) -> None:
    """示范县经济开发区：写出示范数据包，运行审计与就绪度，然后启动网页地图。"""
    from data import DEMO_BUNDLE
    from gis.outputs import atomic_dir

    day = _as_of(as_of)
    with _steps() as step:
        with atomic_dir(out_dir) as tmp:
            step("写出示范数据包 writing the demo bundle")
            shutil.copytree(
                DEMO_BUNDLE, tmp / "bundle", ignore=shutil.ignore_patterns("landready-store.gpkg*")
            )
            data = _read(tmp / "bundle", step)
            summary = _write_audit(data, day, tmp, step)
            _write_readiness(data, day, tmp, step)
    _print_summary(summary)
    out.print(
        f"已写出 written: {out_dir} (bundle/, audit.geojson, unsupplied.geojson, batches.csv, summary.json,"
    )
    out.print("  ledger.xlsx, readiness.geojson)")
    if not no_serve:
        _serve(out_dir / "bundle", "127.0.0.1", port, day, None, "writes")


def _serve(bundle: Path | None, host: str, port: int, as_of: date, db: str | None, auth: str) -> None:
    from api.server import serve as run_server
    from api.settings import Settings

    if auth not in ("writes", "all"):
        raise InputError(f"--auth must be writes or all, got {auth!r}", field="--auth")
    if bundle is None and db is None:
        raise InputError("give a BUNDLE or --db URL", field="BUNDLE")
    if bundle is not None and not bundle.exists():
        raise InputError("no such file or directory", file=bundle)
    out.print(f"landready: http://{host}:{port}/  (OGC API: http://{host}:{port}/ogc)")
    run_server(Settings(bundle=bundle, db=db, host=host, port=port, as_of=as_of, auth=auth))


@app.command()
@_guard
def serve(
    bundle: Annotated[Path | None, typer.Argument(help="bundle directory or GeoPackage")] = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    as_of: AsOfOpt = None,
    db: Annotated[str | None, typer.Option("--db", help="postgresql://… team store")] = None,
    auth: Annotated[str, typer.Option("--auth", help="writes (default) or all")] = "writes",
) -> None:
    """网页地图与 OGC API — the web app and API over a bundle or a database."""
    _serve(bundle, host, port, _as_of(as_of), db, auth)


@app.command("map")
@_guard
def map_(
    bundle: BundleArg,
    out_file: Annotated[Path, typer.Option("--out", help="FILE.html")],
    as_of: AsOfOpt = None,
    lang: Annotated[str, typer.Option("--lang", help="zh or en")] = "zh",
) -> None:
    """单文件地图 — one self-contained HTML map (no network needed) for an audit report."""
    from gis.pipeline import compute
    from maps.standalone import write_map

    if lang not in ("zh", "en"):
        raise InputError(f"--lang must be zh or en, got {lang!r}", field="--lang")
    day = _as_of(as_of)
    with _steps() as step:
        data = _read(bundle, step)
        step("计算 computing")
        results = compute(data, day)
        step("绘制地图 drawing the map")
        out_file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out_file.parent) as tmp:
            partial = Path(tmp) / out_file.name
            write_map(results, partial, lang=lang)
            partial.replace(out_file)
    out.print(f"已写出 written: {out_file}")


@app.command("import-txt")
@_guard
def import_txt(
    src: Annotated[Path, typer.Argument(help="界址点坐标 TXT")],
    out_file: Annotated[Path, typer.Option("--out", help="FILE.geojson, .gpkg or .parquet")],
    crs: Annotated[
        str | None,
        typer.Option(
            "--crs", help="EPSG code when the file has neither zone prefix nor 带号, e.g. EPSG:4527"
        ),
    ] = None,
    axis: Annotated[
        str,
        typer.Option(
            "--axis",
            help="auto (default), north-first (X = 北坐标, the standard) or east-first; for files the values "
            "cannot tell, such as the far south",
        ),
    ] = "auto",
    repair: Annotated[bool, typer.Option("--repair", help="repair invalid parcels (make_valid)")] = False,
) -> None:
    """界址点坐标 TXT → GeoJSON, GeoPackage or GeoParquet."""
    from gis.formats.txt import import_txt as convert

    swap = {"auto": None, "north-first": False, "east-first": True}
    if axis not in swap:
        raise InputError(f"--axis must be auto, north-first or east-first, got {axis!r}", field="--axis")
    if not src.exists():
        raise InputError("no such file", file=src)
    for warning in convert(src, out_file, crs=crs, swap_xy=swap[axis], repair=repair):
        err.print(f"[yellow]警告 warning[/]: {escape(str(warning))}")
    out.print(f"已写出 written: {out_file}")


@app.command("export-txt")
@_guard
def export_txt(
    layer: Annotated[Path, typer.Argument(help="polygon layer (GeoJSON, GeoPackage, shapefile, GeoParquet)")],
    out_file: Annotated[Path, typer.Option("--out", help="FILE.txt")],
    encoding: Annotated[str, typer.Option("--encoding", help="gbk (default), gb18030 or utf-8")] = "gbk",
    split_parts: Annotated[
        bool,
        typer.Option("--split-parts", help="write each part of a multipolygon as its own parcel (地块)"),
    ] = False,
) -> None:
    """Polygons → 界址点坐标 TXT (GBK, CRLF)."""
    from gis.formats.txt import export_txt as convert

    if encoding.lower().replace("_", "-") not in ("gbk", "gb18030", "utf-8", "utf8"):
        raise InputError(f"--encoding must be gbk, gb18030 or utf-8, got {encoding!r}", field="--encoding")
    if not layer.exists():
        raise InputError("no such file", file=layer)
    for warning in convert(layer, out_file, encoding=encoding, split_parts=split_parts):
        err.print(f"[yellow]警告 warning[/]: {escape(str(warning))}")
    out.print(f"已写出 written: {out_file}")


@app.command()
@_guard
def load(
    bundle: BundleArg,
    db: Annotated[str, typer.Option("--db", help="postgresql://user:password@host:port/database")],
    discard_edits: Annotated[
        bool, typer.Option("--discard-edits", help="load over parcels edited since the last load")
    ] = False,
) -> None:
    """载入 PostGIS — load a bundle into the team database, all or nothing (safe to re-run)."""
    from gis.store import is_db_url
    from gis.store.load import load_bundle

    if not is_db_url(db):
        raise InputError("--db must be a postgresql:// URL", field="--db")
    with _steps() as step:
        data = _read(bundle, step)
        counts = load_bundle(
            data, db, progress=lambda name: step(f"载入 loading {name}"), discard_edits=discard_edits
        )
    for name, n in counts.items():
        out.print(f"{name}: {n}")
    out.print("已载入 loaded")


@token_app.command("create")
@_guard
def token_create(
    role: Annotated[str, typer.Option("--role", help="viewer | editor | auditor")],
    name: Annotated[str, typer.Option("--name", help="who holds it; shown as the actor in history")],
    bundle: Annotated[Path | None, typer.Argument(help="bundle (embedded store)")] = None,
    db: Annotated[str | None, typer.Option("--db", help="postgresql://… team store")] = None,
) -> None:
    """新建访问令牌 — print a new bearer token once (only its hash is stored)."""
    store = _open_store(bundle, db)
    token = store.create_token(role, name)
    out.print(f"令牌已创建 token created for {name} ({role}); it is shown only once:")
    print(token)


def _open_store(bundle: Path | None, db: str | None) -> Any:
    from gis.store import EmbeddedStore, PostgisStore, embedded_store_path

    if (bundle is None) == (db is None):
        raise InputError("give either a BUNDLE or --db URL", field="--db")
    if db is not None:
        return PostgisStore(db)
    assert bundle is not None
    path = embedded_store_path(bundle)
    if not path.exists():
        with _steps() as step:
            data = _read(bundle, step)
            return EmbeddedStore.create(path, data.parcels)
    return EmbeddedStore(path)


def main() -> None:
    """Entry point for `python -m api.cli`."""
    app()


if __name__ == "__main__":
    main()
