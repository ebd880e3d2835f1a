"""The rendered Kubernetes manifests keep the platform's operating rules: probes, limits,
graceful termination, disruption budgets and autoscalers, network isolation, secrets kept
out of the repository, and enough Kafka partitions for the consumers' replicas."""

from typing import Any

import pytest

from pms_cli.deploy_check import KUSTOMIZATIONS, rendered, repo_root
from pms_cli.infra.kafka_admin import PROJECT_TOPICS
from pms_cli.services import SERVICES
from pms_platform.settings import ServiceSettings

Manifests = tuple[dict[str, Any], ...]
OVERLAY_NAMESPACES = {"deploy/k8s/overlays/dev": "pms-dev", "deploy/k8s/overlays/prod": "pms"}
# Consumer groups read these topics; a group uses at most one replica per partition.
CONSUMED_TOPICS = {"billing": ("patient",), "analytics": ("patient", "billing")}
OPERATOR_SECRETS = {
    "auth-signing-key",
    "auth-secrets",
    "patients-secrets",
    "billing-secrets",
    "analytics-secrets",
}


def _of_kind(manifests: Manifests, kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def _pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = workload["spec"]["template"]["spec"]["containers"][0]
    return container


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _shutdown_grace_seconds(manifests: Manifests, deployment: dict[str, Any]) -> float:
    config_maps = _of_kind(manifests, "ConfigMap")
    default = ServiceSettings.model_fields["shutdown_grace_seconds"].default
    grace = float(default)
    for source in _container(deployment).get("envFrom", []):
        data = config_maps[source["configMapRef"]["name"]].get("data", {})
        for name, value in data.items():
            if name.endswith("_SHUTDOWN_GRACE_SECONDS"):
                grace = float(value)
    return grace


@pytest.fixture(params=KUSTOMIZATIONS)
def manifests(request: pytest.FixtureRequest) -> Manifests:
    return rendered(request.param)


def test_every_service_has_one_deployment(manifests: Manifests) -> None:
    assert set(_of_kind(manifests, "Deployment")) == {spec.name for spec in SERVICES}


def test_deployments_probe_readiness_and_liveness_on_the_http_port(manifests: Manifests) -> None:
    for name, deployment in _of_kind(manifests, "Deployment").items():
        container = _container(deployment)
        ready = container["readinessProbe"]["httpGet"]
        live = container["livenessProbe"]["httpGet"]
        started = container["startupProbe"]["httpGet"]

        assert ready == {"path": "/health/ready", "port": "http"}, name
        assert live == {"path": "/health/live", "port": "http"}, name
        assert started == {"path": "/health/live", "port": "http"}, name


def test_every_container_has_resource_requests_and_limits(manifests: Manifests) -> None:
    for manifest in manifests:
        if manifest["kind"] not in {"Deployment", "Job"}:
            continue
        resources = _container(manifest)["resources"]
        for bound in ("requests", "limits"):
            assert set(resources[bound]) == {"cpu", "memory"}, manifest["metadata"]["name"]


def test_termination_outlasts_the_prestop_sleep_and_the_shutdown_grace(
    manifests: Manifests,
) -> None:
    for name, deployment in _of_kind(manifests, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        command = _container(deployment)["lifecycle"]["preStop"]["exec"]["command"]
        assert command[0] == "sleep", name
        pre_stop = float(command[1])

        assert pre_stop >= 3, f"{name}: give endpoints time to drop the pod"
        grace = _shutdown_grace_seconds(manifests, deployment)
        assert pod["terminationGracePeriodSeconds"] > pre_stop + grace, name


def test_pods_run_unprivileged_with_a_read_only_root(manifests: Manifests) -> None:
    for manifest in manifests:
        if manifest["kind"] not in {"Deployment", "Job"}:
            continue
        pod = manifest["spec"]["template"]["spec"]
        container = _container(manifest)

        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }


def test_each_deployment_has_a_budget_and_an_autoscaler_owning_its_replicas(
    manifests: Manifests,
) -> None:
    budgets = _of_kind(manifests, "PodDisruptionBudget")
    autoscalers = _of_kind(manifests, "HorizontalPodAutoscaler")
    for name, deployment in _of_kind(manifests, "Deployment").items():
        labels = _pod_labels(deployment)
        budget = budgets[name]["spec"]
        autoscaler = autoscalers[name]["spec"]

        assert "replicas" not in deployment["spec"], f"{name}: the autoscaler owns replicas"
        assert _selects(budget["selector"]["matchLabels"], labels), name
        assert budget["maxUnavailable"] == 1, name
        assert autoscaler["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert 1 <= autoscaler["minReplicas"] <= autoscaler["maxReplicas"], name


def test_consumers_never_scale_past_their_topics_partitions(manifests: Manifests) -> None:
    partitions = {
        topic["spec"]["topicName"]: topic["spec"]["partitions"]
        for topic in _of_kind(manifests, "KafkaTopic").values()
    }
    autoscalers = _of_kind(manifests, "HorizontalPodAutoscaler")
    for service, topics in CONSUMED_TOPICS.items():
        most = autoscalers[service]["spec"]["maxReplicas"]
        for topic in topics:
            assert most <= partitions[topic], f"{service} replicas beyond {topic} partitions"
        # Room for several analytics replicas, as the issue asks.
        assert min(partitions[topic] for topic in topics) >= 6


def test_kafka_topics_are_the_launchers_with_at_least_as_many_partitions(
    manifests: Manifests,
) -> None:
    topics = {
        topic["spec"]["topicName"]: topic for topic in _of_kind(manifests, "KafkaTopic").values()
    }

    assert set(topics) == set(PROJECT_TOPICS)
    for name, topic in topics.items():
        assert topic["spec"]["partitions"] >= PROJECT_TOPICS[name]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "pms-kafka"


def test_services_route_to_their_deployments_ports(manifests: Manifests) -> None:
    deployments = _of_kind(manifests, "Deployment")
    for name, service in _of_kind(manifests, "Service").items():
        deployment = deployments[name]
        container_ports = {p["name"]: p["containerPort"] for p in _container(deployment)["ports"]}

        assert _selects(service["spec"]["selector"], _pod_labels(deployment)), name
        assert service["spec"]["type"] == "ClusterIP", name
        for port in service["spec"]["ports"]:
            assert container_ports[port["targetPort"]] == port["port"], name


def test_services_never_select_migration_pods(manifests: Manifests) -> None:
    jobs = _of_kind(manifests, "Job").values()
    for name, service in _of_kind(manifests, "Service").items():
        for job in jobs:
            assert not _selects(service["spec"]["selector"], _pod_labels(job)), name


def test_only_the_gateway_receives_traffic_from_outside(manifests: Manifests) -> None:
    policies = _of_kind(manifests, "NetworkPolicy")
    deployments = _of_kind(manifests, "Deployment")
    default_deny = [
        p
        for p in policies.values()
        if p["spec"]["podSelector"] == {} and "ingress" not in p["spec"]
    ]
    assert default_deny, "a default deny of all ingress"

    open_to = set()
    for policy in policies.values():
        selected = {
            name
            for name, deployment in deployments.items()
            if _selects(
                policy["spec"]["podSelector"].get("matchLabels", {}), _pod_labels(deployment)
            )
        }
        for rule in policy["spec"].get("ingress", []):
            sources = rule.get("from")
            if not sources:
                open_to |= selected
                continue
            for source in sources:
                assert set(source) == {"podSelector"}, f"{policy['metadata']['name']}: {source}"

    assert open_to == {"gateway"}


def test_every_service_accepts_its_callers(manifests: Manifests) -> None:
    policies = _of_kind(manifests, "NetworkPolicy").values()
    deployments = _of_kind(manifests, "Deployment")

    def allowed(caller: str, callee: str, port: str) -> bool:
        for policy in policies:
            if not _selects(
                policy["spec"]["podSelector"].get("matchLabels", {}),
                _pod_labels(deployments[callee]),
            ):
                continue
            for rule in policy["spec"].get("ingress", []):
                ports = {p["port"] for p in rule.get("ports", [])}
                sources = rule.get("from")
                from_caller = not sources or any(
                    _selects(
                        s["podSelector"].get("matchLabels", {}), _pod_labels(deployments[caller])
                    )
                    for s in sources
                )
                if from_caller and (not ports or port in ports):
                    return True
        return False

    calls = [
        ("gateway", upstream, "http") for upstream in ("auth", "patients", "billing", "analytics")
    ]
    calls += [(service, "auth", "http") for service in ("patients", "billing", "analytics")]
    calls += [("patients", "billing", "grpc")]
    for caller, callee, port in calls:
        assert allowed(caller, callee, port), f"{caller} -> {callee}:{port}"
    assert not allowed("patients", "analytics", "http")


@pytest.mark.parametrize("kustomization", ["deploy/k8s/base", "deploy/k8s/overlays/prod"])
def test_no_secret_value_is_committed_for_production(kustomization: str) -> None:
    assert _of_kind(rendered(kustomization), "Secret") == {}


def test_workloads_refer_only_to_the_documented_secrets(manifests: Manifests) -> None:
    referred = set()
    for manifest in manifests:
        if manifest["kind"] not in {"Deployment", "Job"}:
            continue
        pod = manifest["spec"]["template"]["spec"]
        for variable in _container(manifest).get("env", []):
            referred.add(variable["valueFrom"]["secretKeyRef"]["name"])
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                referred.add(volume["secret"]["secretName"])
    generated = {
        name: secret["metadata"]["name"]
        for name in OPERATOR_SECRETS
        for secret in _of_kind(manifests, "Secret").values()
        if secret["metadata"]["name"].startswith(f"{name}-")
    }

    assert {generated.get(name, name) for name in OPERATOR_SECRETS} == referred
    readme = (repo_root() / "deploy/README.md").read_text(encoding="utf-8")
    for name in OPERATOR_SECRETS:
        assert f"`{name}`" in readme, f"deploy/README.md does not say how to create {name}"


@pytest.mark.parametrize(("kustomization", "namespace"), sorted(OVERLAY_NAMESPACES.items()))
def test_overlays_deploy_into_their_restricted_namespace(
    kustomization: str, namespace: str
) -> None:
    manifests = rendered(kustomization)
    namespaces = _of_kind(manifests, "Namespace")

    assert set(namespaces) == {namespace}
    labels = namespaces[namespace]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    for manifest in manifests:
        if manifest["kind"] != "Namespace":
            assert manifest["metadata"]["namespace"] == namespace, manifest["metadata"]["name"]


def test_environments_are_production_in_prod_and_development_in_dev() -> None:
    for kustomization, expected in (
        ("deploy/k8s/base", "production"),
        ("deploy/k8s/overlays/prod", "production"),
        ("deploy/k8s/overlays/dev", "development"),
    ):
        for config_map in _of_kind(rendered(kustomization), "ConfigMap").values():
            environments = [v for k, v in config_map["data"].items() if k.endswith("_ENVIRONMENT")]
            assert environments == [expected], (kustomization, config_map["metadata"]["name"])


def test_prod_images_come_from_a_registry_with_a_fixed_tag() -> None:
    for deployment in _of_kind(rendered("deploy/k8s/overlays/prod"), "Deployment").values():
        image = _container(deployment)["image"]
        repository, _, tag = image.rpartition(":")

        assert "/" in repository, image
        assert tag not in {"", "latest"}, image
