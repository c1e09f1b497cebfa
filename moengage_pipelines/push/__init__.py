"""Push: warehouse rows → MoEngage users, events and catalog items.

The stages, in the order data flows through them: ``mapping`` (what a row becomes) →
``prepare`` (conversion, rules, serialization; rejected rows → ``dead_letters``) → ``pack``
(request bodies) → ``ledger`` (delivery state, keyed by destination) → ``send`` (concurrency,
splits; the client's rate budget and retries) → ``report``. ``pipeline.run_push`` wires them;
``catalog`` holds what catalog pushes add.
"""
