"""`pms containers test` (`make containers-test`): the images and the Compose stack, for real.

Base images built locally from Debian's packages where no registry answers (``bases``),
the five service images from deploy/docker/Dockerfile, the stack of deploy/compose.yaml
started with podman-compose in its dependency order (``plan``, ``stack``), the end-to-end
suite against it (``e2e_platform``), and a teardown that leaves nothing of it behind.
"""
