"""Where file contents live: the `Storage` protocol, local folders and Supabase Storage.

Rows in the database say which objects should exist; deleting a row queues its object in the
``storage_deletions`` outbox (a trigger, in the same transaction), and
`core.services.maintenance` drains the outbox through a `Storage`.
"""

from __future__ import annotations

from core.config import AppConfig
from core.storage.base import (
    ATTACHMENTS,
    BUCKETS,
    DEFAULT_CONTENT_TYPE,
    ORDER_FILES,
    PDFS,
    TMP,
    InvalidKey,
    LinkExpired,
    LinkRefused,
    ObjectExists,
    ObjectNotFound,
    Storage,
    StorageError,
    attachment_key,
    check_bucket,
    check_key,
    key_name,
    order_file_key,
    tmp_key,
)
from core.storage.local import LocalStorage


def open_storage(config: AppConfig) -> Storage:
    """The configured backend, ready to use: local folders in the data dir unless Supabase is
    set, with the shop's buckets made. This is the one place buckets are made, so every caller
    (desktop, CLI, relay) can store its first file in a new data folder or a new Supabase
    project; when the buckets exist already it costs a few ``mkdir`` calls or one listing."""
    storage: Storage
    if config.storage_backend == "supabase":
        from core.storage.supabase_backend import SupabaseStorage

        if not config.supabase_url or not config.supabase_service_key:
            raise StorageError(
                "Supabase storage is chosen but not set up: set PRINTDESK_SUPABASE_URL and "
                "PRINTDESK_SUPABASE_SERVICE_KEY."
            )
        storage = SupabaseStorage(config.supabase_url, config.supabase_service_key)
    else:
        storage = LocalStorage(config.storage_dir)
    try:
        storage.ensure_buckets()
    except BaseException:
        storage.close()
        raise
    return storage


__all__ = [
    "ATTACHMENTS",
    "BUCKETS",
    "DEFAULT_CONTENT_TYPE",
    "ORDER_FILES",
    "PDFS",
    "TMP",
    "InvalidKey",
    "LinkExpired",
    "LinkRefused",
    "LocalStorage",
    "ObjectExists",
    "ObjectNotFound",
    "Storage",
    "StorageError",
    "attachment_key",
    "check_bucket",
    "check_key",
    "key_name",
    "open_storage",
    "order_file_key",
    "tmp_key",
]
