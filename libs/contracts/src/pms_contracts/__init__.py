"""The platform's wire contracts: Python code generated from ``proto/``.

- ``billing_service_pb2`` / ``billing_service_pb2_grpc``: the billing gRPC
  service (``/BillingService/CreateBillingAccount``, no proto package), its
  ``BillingRequest`` and ``BillingResponse``, and the RPCs added since
  (accounts, invoices, payments) with messages of their own.
- ``patient_event_pb2``: ``patient.events.PatientEvent``, the value of the
  Kafka topic ``patient``.
- ``billing_event_pb2``: ``billing.events.BillingEvent``, the value of the
  Kafka topic ``billing``.

Every ``*_pb2*`` module (and its ``.pyi`` stub) is generated: edit the
``.proto`` and run ``make proto`` (``python -m pms_cli.protogen``), never the
generated files. Names and field numbers are frozen by the original system.
"""
