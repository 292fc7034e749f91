"""What the Files screen tests share: a context on local storage, and a shop with files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.actor import Actor
from core.config import AppConfig
from core.db.engine import Database
from core.services import invoices, order_files, quotes
from core.storage import LocalStorage
from desktop.viewmodels.context import AppContext
from desktop.viewmodels.notifier import Notifier
from tests.factories import item, make_client
from workers.tasks import TaskRunner
from workers.thumbnails import ThumbnailService

# The shared models sit beside the checkout (/work/shared), also seen from a worktree.
MODELS = next(
    p / "shared" / "models"
    for p in Path(__file__).resolve().parents
    if (p / "shared" / "models").is_dir()
)
CUBE = MODELS / "20mm-xyz-cube.stl"
PYRAMIDS = MODELS / "pyramids.3mf"
EMPTY = MODELS / "empty.stl"


def thumbnail_service(folder: Path) -> ThumbnailService:
    return ThumbnailService(folder / "thumbs", size=192)


@dataclass
class Shop:
    storage: LocalStorage
    ada: int
    grace: int
    quote_id: int
    quote_number: str
    invoice_id: int
    invoice_number: str
    files: dict[str, int]


def make_context(
    database: Database, actor: Actor, folder: Path, storage: LocalStorage
) -> AppContext:
    config = AppConfig(data_dir=folder / "data")
    return AppContext(
        db=database,
        actor=actor,
        notifier=Notifier(),
        runner=TaskRunner(),
        config=lambda: config,
        open_storage=lambda: storage,
    )


def seed_files(database: Database, admin: Actor, folder: Path) -> Shop:
    """Ada has a quote with two files; Grace an invoice with one."""
    storage = LocalStorage(folder / "storage")
    storage.ensure_buckets()
    ada = make_client(database, "Ada Lovelace", "ada@example.com")
    grace = make_client(database, "Grace Hopper", "grace@example.com")
    with database.session() as s:
        quote = quotes.create_quote(s, admin, ada, [item()])
    with database.session() as s:
        invoice = invoices.create_invoice(s, admin, grace, [item()])
    files: dict[str, int] = {}
    for name, path, client, q, i in (
        ("bracket.stl", CUBE, ada, quote.id, None),
        ("pyramids.3mf", PYRAMIDS, ada, quote.id, None),
        ("gear.stl", CUBE, grace, None, invoice.id),
    ):
        with database.session() as s:
            files[name] = order_files.add_order_file(
                s, admin, storage, path, client_id=client, quote_id=q, invoice_id=i, filename=name
            ).id
    return Shop(storage, ada, grace, quote.id, quote.number, invoice.id, invoice.number, files)
