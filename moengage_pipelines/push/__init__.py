"""Pushing warehouse rows to MoEngage: mapping, validation, serialization, packing, delivery.

The entry point is :func:`moengage_pipelines.push.pipeline.run_push`; a mapping
(:mod:`moengage_pipelines.push.mapping`) says how rows become users, events or catalog items.
Submodules are imported on demand, so importing this package stays cheap.
"""
