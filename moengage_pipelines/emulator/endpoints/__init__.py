"""Endpoint families. Each module has ``register(router, state)`` adding its routes.

``core.ENDPOINT_MODULES`` lists the families an ``Emulator`` serves.
"""
