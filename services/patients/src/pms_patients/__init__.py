"""Patient records, their audit trail and their events.

``app`` builds the service; ``settings``; ``api`` (the routes); ``service``
(``PatientService``: reads, changes, audit); ``registration`` (a new patient, then their
billing account, and the retry worker); ``failure_audit`` (auditing refused requests);
``events`` (outbound ``PatientEvent``s, through the outbox); ``grpc_client`` (billing);
``repository`` (all SQL); ``models``; ``schemas``; ``seed``.
"""
