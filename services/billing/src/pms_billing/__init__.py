"""Billing accounts and invoices, over gRPC and REST.

``app`` builds the service; ``settings``; ``api`` (REST); ``grpc_server`` (the
``BillingService`` servicer); ``service`` (``BillingService``: accounts, invoices and
their state machine); ``events`` (outbound ``BillingEvent``s, through the outbox);
``handlers`` (the ``patient`` events, and their consumer); ``currencies``; ``repository``
(all SQL); ``models``; ``schemas``.
"""
