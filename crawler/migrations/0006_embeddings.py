"""Chunk embeddings for dense retrieval (CLOOP_EMBEDDING_MODEL).

`crawler_embedding.embedding` is a pgvector `vector` where the extension can be created and
a `real[]` otherwise, so the migration never fails on a server without pgvector. The
extension goes to the public schema (on every tenant's search_path), never to the tenant
schema that happens to migrate first.
"""

from django.db import migrations, models


def _vector_available(cur) -> bool:
    cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
    if cur.fetchone():
        return True
    cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    if not cur.fetchone():
        return False
    # Not allowed (not superuser, extension not trusted): stay on the float-array storage.
    cur.execute("SAVEPOINT crawler_vector")
    try:
        cur.execute("CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public")
    except Exception:  # noqa: BLE001 - any refusal means no pgvector here
        cur.execute("ROLLBACK TO SAVEPOINT crawler_vector")
        # ...unless a concurrent migration of another schema created it meanwhile.
        cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
        return cur.fetchone() is not None
    cur.execute("RELEASE SAVEPOINT crawler_vector")
    return True


def create_embedding_table(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        kind = "public.vector" if _vector_available(cur) else "real[]"
        cur.execute(
            f"""
            CREATE TABLE IF NOT EXISTS crawler_embedding (
                chunk_id bigint PRIMARY KEY
                    REFERENCES crawler_chunk (id) ON DELETE CASCADE,
                page_id bigint NOT NULL,
                digest text NOT NULL,
                embedding {kind} NOT NULL
            )
            """
        )
        cur.execute(
            "CREATE INDEX IF NOT EXISTS crawler_embedding_page ON crawler_embedding (page_id)"
        )


def drop_embedding_table(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS crawler_embedding")


class Migration(migrations.Migration):
    dependencies = [
        ("crawler", "0005_page_drop_seen_run"),
    ]

    operations = [
        migrations.AddField(
            model_name="indexstats",
            name="embedding_model",
            field=models.CharField(blank=True, db_default="", max_length=200),
        ),
        migrations.AddField(
            model_name="indexstats",
            name="embedding_dim",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.RunPython(create_embedding_table, drop_embedding_table),
    ]
