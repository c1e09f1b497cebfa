"""The delivery state as a state machine: any interleaving of sends, lost answers, refusals,
crashes and re-runs ends with nothing lost and duplicates bounded by the answers lost.

Each example drives the real ``LedgerSender`` over a real ``MoEngageClient`` and an in-process
emulator, with a DuckDB ledger. A crash is a process that dies between the request and the
recording of its answer: the body may be applied, its outcome is never written.
"""

from __future__ import annotations

import uuid
from collections import Counter

import orjson
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.api.ratebudget import RateBudget
from moengage_pipelines.api.retries import RetryConfig
from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.emulator import Emulator, EmulatorSettings
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.push.ledger import PushLedger, destination_of
from moengage_pipelines.push.ledger.sender import LedgerScope, LedgerSender
from moengage_pipelines.push.pack.body import Body
from moengage_pipelines.push.send import Outcome, TransitionSender
from moengage_pipelines.warehouse import Warehouse

BODIES = 6
EVENTS_PER_BODY = 3


class _Crash(BaseException):
    """The process dies: nothing after this point runs (no outcome is recorded)."""


class _CrashAfterApplying:
    """A sender whose process dies once the request was applied, before the answer is kept."""

    def __init__(self, inner: TransitionSender) -> None:
        self.inner = inner

    def send(self, body: Body, trace: RequestTrace, *, on_dispatch=None):
        self.inner.send(body, trace, on_dispatch=on_dispatch)
        raise _Crash


class _CrashBeforeArriving:
    """A sender whose process dies after the body was recorded in flight, before it left."""

    def send(self, body: Body, trace: RequestTrace, *, on_dispatch=None):
        if on_dispatch is not None:
            on_dispatch()
        raise _Crash


def _body(seq: int) -> Body:
    elements = [
        {"type": "event", "customer_id": f"c{seq}",
         "actions": [{"action": "Bought", "attributes": {"n": f"{seq}-{k}"}}]}
        for k in range(EVENTS_PER_BODY)
    ]
    payload = orjson.dumps({"type": "transition", "elements": elements})
    return Body("transition", payload, events=EVENTS_PER_BODY, first_row=seq * 3, seq=seq)


class LedgerMachine(RuleBasedStateMachine):
    """One partition pushed again and again until a run completes."""

    def __init__(self) -> None:
        super().__init__()
        self.emulator = Emulator(EmulatorSettings())
        emulator_settings = self.emulator.settings
        settings_ = MoEngageSettings(
            workspace_id=emulator_settings.workspace_id,
            data_api_key=emulator_settings.data_api_key,
            campaign_api_key=emulator_settings.campaign_api_key,
        )
        # One attempt per request: each lost answer is a failure the ledger must handle.
        self.client = MoEngageClient(
            settings_, transport=self.emulator.transport(), budget=RateBudget.unlimited(),
            retry=RetryConfig(max_attempts=1),
        )
        self.warehouse = Warehouse.open("duckdb:///:memory:")
        self.ledger = PushLedger(self.warehouse)
        self.destination = destination_of(settings_, "events")
        self.bodies = [_body(seq) for seq in range(BODIES)]
        # Events of bodies that may have been applied without their answer being recorded.
        self.maybe_applied_twice = 0
        self.sender: LedgerSender | None = None
        self.next_body = 0
        self.new_run()

    # -- runs ----------------------------------------------------------------------------

    def new_run(self) -> None:
        known = self.ledger.statuses("events", "p", self.destination)
        scope = LedgerScope("events", "p", self.destination, uuid.uuid4().hex, None)
        self.sender = LedgerSender(
            TransitionSender(self.client), ledger=self.ledger, known=known,
            resend="ambiguous", scope=scope,
        )
        self.next_body = 0

    def send(self, *, fault: FaultRule | None = None, crash: str = "") -> None:
        assert self.sender is not None
        body = self.bodies[self.next_body]
        if fault is not None:
            self.emulator.faults.add(fault)
        if crash == "after applying":
            self.sender.inner = _CrashAfterApplying(TransitionSender(self.client))
        elif crash == "before arriving":
            self.sender.inner = _CrashBeforeArriving()
        try:
            outcome = self.sender.send(body, RequestTrace())
        except _Crash:
            self.maybe_applied_twice += body.events
            self.new_run()  # the process died; the next command starts over
            return
        finally:
            self.emulator.faults.clear()
        if outcome.outcome is Outcome.FAILED and outcome.ambiguous:
            self.maybe_applied_twice += body.events
        self.next_body += 1
        if self.next_body == len(self.bodies):
            self.new_run()

    # -- rules ---------------------------------------------------------------------------

    @rule()
    def answer_arrives(self) -> None:
        self.send()

    @rule()
    def answer_lost_after_applying(self) -> None:
        self.send(fault=FaultRule(endpoint="transition", kind="reset", count=1))

    @rule()
    def refused_before_applying(self) -> None:
        self.send(fault=FaultRule(endpoint="transition", kind="error", status=503, count=1))

    @rule()
    def answer_lost_before_applying(self) -> None:
        # The request timed out: MoEngage may or may not have it; here it did not.
        self.send(fault=FaultRule(endpoint="transition", kind="timeout", count=1))

    @rule()
    def process_dies_after_applying(self) -> None:
        self.send(crash="after applying")

    @rule()
    def process_dies_before_the_request_arrives(self) -> None:
        self.send(crash="before arriving")

    @rule()
    def rerun(self) -> None:
        self.new_run()

    @rule(rounds=st.integers(min_value=1, max_value=2))
    def a_clean_run_to_the_end(self, rounds: int) -> None:
        for _ in range(rounds):
            self.new_run()
            while True:
                self.send()
                if self.next_body == 0:
                    break

    # -- what must hold ------------------------------------------------------------------

    @invariant()
    def nothing_arrives_more_than_the_lost_answers_allow(self) -> None:
        received = Counter(e["attributes"]["n"] for e in self.emulator.inspect.events())
        duplicates = sum(count - 1 for count in received.values())
        assert duplicates <= self.maybe_applied_twice

    def teardown(self) -> None:
        try:
            # Whatever happened, one clean run delivers every event that is missing.
            self.new_run()
            for _ in self.bodies:
                self.send()
            received = Counter(e["attributes"]["n"] for e in self.emulator.inspect.events())
            expected = {f"{seq}-{k}" for seq in range(BODIES) for k in range(EVENTS_PER_BODY)}
            assert set(received) == expected  # nothing lost
            assert sum(received.values()) - len(expected) <= self.maybe_applied_twice
        finally:
            self.client.close()
            self.warehouse.close()
            self.emulator.close()


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(
    max_examples=30, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
