"""Parquet on S3: a real local S3 server (moto, own process), bytes counted by a TCP proxy."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from moengage_pipelines.cli import main
from moengage_pipelines.sources import ParquetSource, SourceError, SourceNotFoundError, TimeWindow
from tests.sources.local_s3 import CountingProxy, LocalS3, free_port

DAYS = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(8)]
ROWS_PER_DAY = 16_000
ROW_GROUP_ROWS = 4_000
FOOTER_READ = 64 * 1024  # what pyarrow fetches from a file's end to find its footer
OVERHEAD = 16 * 1024  # the listing and the response headers of a read


@pytest.fixture(scope="module")
def s3() -> Iterator[LocalS3]:
    server = LocalS3.start()
    yield server
    server.stop()


@pytest.fixture
def proxy(s3: LocalS3) -> Iterator[CountingProxy]:
    counting = CountingProxy(s3.port)
    yield counting
    counting.close()


@pytest.fixture(autouse=True)
def aws_env(s3: LocalS3, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The standard AWS chain sees only this server's key (and never an instance role)."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="module")
def bucket(s3: LocalS3) -> dict[str, pa.Table]:
    """Bucket ``lake``: ``events/day=YYYY-MM-DD/part-0.parquet`` (hive), plus odd prefixes."""
    store = pafs.S3FileSystem(
        access_key=s3.access_key,
        secret_key=s3.secret_key,
        endpoint_override=s3.endpoint,
        scheme="http",
        region="us-east-1",
        allow_bucket_creation=True,
    )
    store.create_dir("lake")
    rng = np.random.default_rng(13)
    tables = {}
    for number, day in enumerate(DAYS):
        start = dt.datetime.combine(day, dt.time())
        seconds = np.sort(rng.integers(0, 86_400, ROWS_PER_DAY))
        table = pa.table(
            {
                "customer_id": [f"c{number}-{i}" for i in range(ROWS_PER_DAY)],
                "event_time": pa.array(
                    [start + dt.timedelta(seconds=int(s)) for s in seconds], pa.timestamp("us")
                ),
                # Random text does not compress: the bytes fetched follow the rows read.
                "payload": [os.urandom(24).hex() for _ in range(ROWS_PER_DAY)],
            }
        )
        tables[day.isoformat()] = table
        path = f"lake/events/day={day.isoformat()}/part-0.parquet"
        pq.write_table(table, path, filesystem=store, row_group_size=ROW_GROUP_ROWS)
    pq.write_table(pa.table({"id": [1, 2]}), "lake/drift/a.parquet", filesystem=store)
    pq.write_table(pa.table({"id": ["x", "y"]}), "lake/drift/b.parquet", filesystem=store)
    return tables


def uri(path: str, endpoint: str) -> str:
    return f"s3://lake/{path}?endpoint_override={endpoint}&scheme=http"


def read(source: ParquetSource, **kwargs) -> pa.Table:
    return pa.Table.from_batches(list(source.iter_batches(**kwargs)), source.schema())


def file_size(s3: LocalS3, day: dt.date) -> int:
    store = pafs.S3FileSystem(endpoint_override=s3.endpoint, scheme="http", region="us-east-1")
    return store.get_file_info(f"lake/events/day={day.isoformat()}/part-0.parquet").size


def test_a_window_on_the_partition_key_fetches_only_its_folder(s3, proxy, bucket):
    day = DAYS[4]
    source = ParquetSource(uri("events/", proxy.endpoint), time_column="day")

    rows = read(source, window=TimeWindow.for_day(day))

    expected = bucket[day.isoformat()]
    assert rows.column("customer_id").to_pylist() == expected.column("customer_id").to_pylist()
    assert set(rows.column("day").to_pylist()) == {day}
    assert rows.schema.field("day").type == pa.date32()
    # One file of eight, read whole (every column asked for), plus listing and headers.
    fetched = proxy.bytes_received
    assert file_size(s3, day) <= fetched <= file_size(s3, day) + FOOTER_READ + OVERHEAD


def test_without_a_window_every_folder_is_fetched(s3, proxy, bucket):
    source = ParquetSource(uri("events/", proxy.endpoint), time_column="day")

    rows = read(source)

    assert rows.num_rows == ROWS_PER_DAY * len(DAYS)
    # Objects in key order, rows in file order: the same bodies on every re-run.
    expected = [
        c for day in DAYS for c in bucket[day.isoformat()].column("customer_id").to_pylist()
    ]
    assert rows.column("customer_id").to_pylist() == expected
    assert proxy.bytes_received >= sum(file_size(s3, day) for day in DAYS)


def test_a_window_on_a_column_inside_the_files_fetches_only_its_row_groups(s3, proxy, bucket):
    day = DAYS[2]
    table = bucket[day.isoformat()]
    # The third row group of that day's file, exactly.
    first, last = table.column("event_time")[2 * ROW_GROUP_ROWS : 3 * ROW_GROUP_ROWS].to_pylist()[
        :: ROW_GROUP_ROWS - 1
    ]
    window = TimeWindow(first, last + dt.timedelta(microseconds=1))
    source = ParquetSource(
        uri(f"events/day={day.isoformat()}/part-0.parquet", proxy.endpoint),
        time_column="event_time",
    )
    metadata = pq.read_metadata(
        f"lake/events/day={day.isoformat()}/part-0.parquet",
        filesystem=pafs.S3FileSystem(endpoint_override=s3.endpoint, scheme="http"),
    )
    group_bytes = metadata.row_group(2).total_byte_size

    rows = read(source, window=window)

    inside = pc.and_(
        pc.greater_equal(table.column("event_time"), pa.scalar(first, pa.timestamp("us"))),
        pc.less_equal(table.column("event_time"), pa.scalar(last, pa.timestamp("us"))),
    )
    assert rows.column("customer_id").to_pylist() == (
        table.filter(inside).column("customer_id").to_pylist()
    )
    # The footer read, and no more than the row groups the window touches (a timestamp shared
    # with a neighbouring group may bring it in too).
    fetched = proxy.bytes_received
    assert fetched <= FOOTER_READ + 2 * group_bytes + OVERHEAD
    assert fetched < file_size(s3, day) / 2


def test_a_glob_reads_the_matching_objects_in_order(proxy, bucket):
    source = ParquetSource(
        uri("events/day=2026-01-0[2-4]/*.parquet", proxy.endpoint), time_column="event_time"
    )

    rows = read(source)

    expected = [bucket[f"2026-01-0{n}"].column("customer_id").to_pylist() for n in (2, 3, 4)]
    assert rows.column("customer_id").to_pylist() == [c for day in expected for c in day]


def test_a_double_star_crosses_folders_and_a_single_star_does_not(s3, bucket):
    everything = ParquetSource(uri("events/**/*.parquet", s3.endpoint))
    top_level = ParquetSource(uri("events/*.parquet", s3.endpoint))

    assert read(everything).num_rows == ROWS_PER_DAY * len(DAYS)
    with pytest.raises(SourceNotFoundError, match=r"no objects match s3://lake/events/\*\.parquet"):
        top_level.schema()


def test_the_endpoint_comes_from_aws_endpoint_url(s3, bucket, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{s3.endpoint}")
    source = ParquetSource("s3://lake/events/day=2026-01-01/", time_column="event_time")

    assert read(source).num_rows == ROWS_PER_DAY


def test_credentials_come_from_a_named_profile(s3, bucket, monkeypatch, tmp_path):
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[pusher]\naws_access_key_id = {s3.access_key}\n"
        f"aws_secret_access_key = {s3.secret_key}\n"
    )
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_PROFILE", "pusher")

    source = ParquetSource(uri("events/day=2026-01-01/", s3.endpoint))

    assert read(source).num_rows == ROWS_PER_DAY


def test_an_unreachable_endpoint_is_named_even_without_credentials(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    closed = free_port()
    source = ParquetSource(f"s3://lake/events/?endpoint_override=127.0.0.1:{closed}&scheme=http")

    with pytest.raises(SourceError, match=r"cannot reach s3://lake/events/.*Could not connect"):
        source.schema()


def test_a_missing_prefix_is_named(s3, bucket):
    source = ParquetSource(uri("nothing-here/", s3.endpoint))

    missing = "prefix 'nothing-here/' does not exist in bucket 'lake'"
    with pytest.raises(SourceNotFoundError, match=missing):
        source.schema()


def test_a_wrong_secret_is_refused_without_showing_it(s3, bucket, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-0123456789")
    source = ParquetSource(uri("events/", s3.endpoint))

    with pytest.raises(SourceError, match=r"access to s3://lake/events/.* was denied") as caught:
        source.schema()

    assert "not-the-secret" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_secret_written_in_the_uri_is_never_shown(s3, bucket):
    secret = "uri-secret-9876543210"
    source = ParquetSource(
        f"s3://{s3.access_key}:{secret}@lake/events/?endpoint_override={s3.endpoint}&scheme=http"
    )

    with pytest.raises(SourceError, match="was denied") as caught:
        source.schema()

    assert secret not in str(caught.value)
    assert secret not in source.describe() and secret not in repr(source)


def test_a_key_pair_in_the_uri_is_read_percent_encoded(s3, bucket, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    secret = quote(s3.secret_key, safe="")
    source = ParquetSource(
        f"s3://{s3.access_key}:{secret}@lake/events/day=2026-01-01/"
        f"?endpoint_override={s3.endpoint}&scheme=http"
    )

    assert read(source).num_rows == ROWS_PER_DAY
    assert secret not in source.describe() and s3.secret_key not in source.describe()


def test_an_unencoded_secret_with_a_slash_is_not_shown_either(s3, bucket):
    secret = "abc/def+ghi/jkl"
    source = ParquetSource(
        f"s3://{s3.access_key}:{secret}@lake/events/?endpoint_override={s3.endpoint}&scheme=http"
    )

    with pytest.raises(SourceError, match="percent-encoded: %2F for /") as caught:
        source.schema()

    for part in (secret, "def+ghi", "jkl"):
        assert part not in str(caught.value)
        assert part not in source.describe()


def test_missing_credentials_say_which_to_set(s3, bucket, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    source = ParquetSource(uri("events/", s3.endpoint))

    with pytest.raises(SourceError, match="no AWS credentials were found; set AWS_ACCESS_KEY_ID"):
        source.schema()


def test_a_schema_that_changes_between_objects_names_the_object(s3, bucket):
    source = ParquetSource(uri("drift/", s3.endpoint))

    with pytest.raises(SourceError, match=r"lake/drift/b\.parquet does not fit the files before"):
        source.schema()


EVENTS_MAPPING = """
entity: events
customer_id: customer_id
event_name: Viewed
event_time_column: event_time
attributes: [payload]
"""


@pytest.fixture
def moengage_env(monkeypatch, moengage_emulator_server):
    monkeypatch.setenv("MOENGAGE_WORKSPACE_ID", "TEST_WORKSPACE")
    monkeypatch.setenv("MOENGAGE_DATA_API_KEY", "test-data-key")
    monkeypatch.setenv("MOENGAGE_CAMPAIGN_API_KEY", "test-campaign-key")
    monkeypatch.setenv("MOENGAGE_BASE_URL", moengage_emulator_server.url)
    return moengage_emulator_server.emulator


def push_args(source: str, tmp_path: Path, *extra: str) -> list[str]:
    mapping = tmp_path / "events.yml"
    mapping.write_text(EVENTS_MAPPING)
    state = f"duckdb:///{tmp_path / 'state.duckdb'}"
    return ["push", "events", "--source", source, "--mapping", str(mapping), "--state", state,
            *extra]


def test_the_cli_pushes_one_day_of_an_s3_dataset(s3, bucket, moengage_env, tmp_path, capsys):
    day = DAYS[3].isoformat()
    args = push_args(uri("events/", s3.endpoint), tmp_path, "--time-column", "day", "--day", day)

    assert main(args) == 0

    assert f"events sent: {ROWS_PER_DAY:,}" in capsys.readouterr().out
    sent = {event["customer_id"] for event in moengage_env.inspect.events()}
    assert sent == set(bucket[day].column("customer_id").to_pylist())


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("s3://nowhere/events/", "the bucket of s3://nowhere/events/"),
        ("s3://lake/nothing-here/", "prefix 'nothing-here/' does not exist in bucket 'lake'"),
    ],
)
def test_the_cli_names_a_missing_location_in_one_line(s3, bucket, tmp_path, capsys, location,
                                                       message):
    source = f"{location}?endpoint_override={s3.endpoint}&scheme=http"

    assert main(push_args(source, tmp_path, "--dry-run")) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_memory_holds_about_one_row_group_however_large_the_object(s3, proxy, bucket):
    rows = 2_000_000
    ids = np.arange(rows, dtype=np.int64)
    table = pa.table({"id": ids, "name": pc.cast(pa.array(ids * 7919), pa.string())})
    data_bytes = table.nbytes
    store = pafs.S3FileSystem(endpoint_override=s3.endpoint, scheme="http", region="us-east-1")
    pq.write_table(table, "lake/big/one.parquet", filesystem=store, row_group_size=100_000)
    del table
    baseline = pa.total_allocated_bytes()
    peak = seen = 0

    for batch in ParquetSource(uri("big/one.parquet", proxy.endpoint)).iter_batches(
        batch_rows=8_192
    ):
        peak = max(peak, pa.total_allocated_bytes() - baseline)
        seen += batch.num_rows

    assert seen == rows
    # A row group's column chunks (fetched together), their decoded pages and one batch: a
    # few row groups' worth of the twenty in the object, whatever its size.
    group_bytes = data_bytes / 20
    assert peak < 4 * group_bytes, (peak, group_bytes)


def test_anonymous_reads_a_public_bucket_without_signing(bucket, tmp_path):
    public = LocalS3.start(checks_signatures=False)
    try:
        store = pafs.S3FileSystem(
            endpoint_override=public.endpoint, scheme="http", region="us-east-1",
            allow_bucket_creation=True,
        )
        store.create_dir("open-data")
        pq.write_table(bucket["2026-01-01"], "open-data/events.parquet", filesystem=store)
        proxy = CountingProxy(public.port)
        source = ParquetSource(
            f"s3://open-data/events.parquet?endpoint_override={proxy.endpoint}&scheme=http"
            "&anonymous=true"
        )

        assert read(source).num_rows == ROWS_PER_DAY
        assert proxy.requests
        assert not any(b"authorization:" in request.lower() for request in proxy.requests)
        proxy.close()
    finally:
        public.stop()
