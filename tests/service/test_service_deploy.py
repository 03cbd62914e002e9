"""deploy/kubernetes/: valid for Kubernetes (kubernetes-validate, offline, strict), and consistent
with the service it runs: probes on /livez and /readyz at the port serve listens on, a grace
period above the longest drain its grader.yaml allows, and selectors that select its pods."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from grader.service.lifecycle import DRAIN_MARGIN_SECONDS
from grader.spec import config
from service_support import REPO

KUBERNETES = REPO / "deploy" / "kubernetes"
VERSIONS = ("1.30", "1.37")  # the oldest and the newest this kubernetes-validate knows


def documents() -> list[tuple[str, dict]]:
    return [(f"{path.name}:{document['kind']}", document) for path in sorted(KUBERNETES.glob("*.yaml"))
            for document in yaml.safe_load_all(path.read_text()) if document]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name, document", documents(), ids=[name for name, _ in documents()])
def test_every_manifest_is_valid_kubernetes(name, document, version):
    kubernetes_validate.validate(document, version, strict=True)


def test_the_validation_can_fail():
    deployment = dict(serve()["Deployment"])
    deployment["spec"] = {**deployment["spec"], "replica": 2}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)


def serve() -> dict[str, dict]:
    text = (KUBERNETES / "grader-serve.yaml").read_text()
    return {document["kind"]: document for document in yaml.safe_load_all(text)}


def test_the_deployment_runs_serve_with_probes_on_its_port_and_a_grace_period_above_its_drain(tmp_path):
    manifests = serve()
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["args"][0] == "serve" and "--port=8080" in container["args"]
    assert container["ports"] == [{"name": "http", "containerPort": 8080}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    # The grader.yaml it mounts is valid, and its drain fits in the grace period.
    grader_yaml = tmp_path / "grader.yaml"
    grader_yaml.write_text(manifests["ConfigMap"]["data"]["grader.yaml"])
    values = config.load(str(grader_yaml), str(REPO)).values
    assert f"--config={container['volumeMounts'][0]['mountPath']}/grader.yaml" in container["args"]
    drain = (values["limits"]["wall_seconds"] + values["shrink"]["wall_seconds"]
             + values["service"]["wait_margin_seconds"] + DRAIN_MARGIN_SECONDS)
    assert pod["terminationGracePeriodSeconds"] > drain
    mounted = [mount["mountPath"] for mount in container["volumeMounts"]]
    assert Path(values["service"]["database"]).parent.as_posix() in mounted
    assert values["service"]["workers"] <= float(container["resources"]["requests"]["cpu"])


def test_the_service_the_autoscaler_and_the_disruption_budget_select_the_deployments_pods():
    manifests = serve()
    labels = manifests["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert manifests["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert manifests["Service"]["spec"]["selector"].items() <= labels.items()
    assert manifests["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    assert manifests["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    target = manifests["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", manifests["Deployment"]["metadata"]["name"])
    budget = manifests["PodDisruptionBudget"]["spec"]["minAvailable"]
    assert manifests["HorizontalPodAutoscaler"]["spec"]["minReplicas"] > budget
