# SPDX-License-Identifier: Apache-2.0
"""The Helm chart (helm/glimpse), rendered as `helm template` renders it: tests/helm/render.go
runs the chart's templates through Go's text/template with sprig and Helm's toYaml, include and
required. Ground truths: yamllint and PyYAML for the YAML, the chart's own values.yaml for the
ConfigMap, README's "Deploy on Kubernetes" for what is promised — and the real agent, which must
accept the rendered config.yaml and work with exactly the rendered capability set."""
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import yaml

from conftest import APPS, GLIMPSE, GO, SRC

CHART = os.path.join(SRC, "helm", "glimpse")
HELM_TESTS = os.path.join(SRC, "tests", "helm")
CAPS_VALUES = os.path.join(HELM_TESTS, "values-capabilities.yaml")
OTLP_VALUES = os.path.join(HELM_TESTS, "values-otlp.yaml")
LINT_CONFIG = os.path.join(HELM_TESTS, ".yamllint")
COLLECTOR = "http://otel-collector.observability:4318"
# README and values.yaml document this list, one reason per capability.
CAPABILITIES = ["BPF", "PERFMON", "SYS_ADMIN", "SYS_PTRACE", "DAC_READ_SEARCH", "CHECKPOINT_RESTORE",
                "SYSLOG", "SYS_RESOURCE"]
# The agent's configuration schema (README "glimpse agent").
SCHEMA = {
    "log_format": None,
    "prometheus": {"address"},
    "otlp": {"endpoint", "headers", "compression", "metrics_interval"},
    "traces": {"sampler", "sampler_arg", "keep_errors", "keep_slower_than"},
    "profiles": {"directory", "interval", "otlp"},
    "selectors": None,
}
MATCH_KEYS = {"exe", "process_name", "port", "container_id", "k8s_namespace", "k8s_pod", "pids"}
SIGNAL_KEYS = {"http_metrics", "traces", "logs", "runtime", "cpu_profile", "cpu_profile_hz", "offcpu_profile",
               "capture"}


@pytest.fixture(scope="module")
def renderer(tmp_path_factory):
    """Builds the renderer in GOPATH mode against Debian's sprig and yaml.v3 packages."""
    out = tmp_path_factory.mktemp("helm") / "render"
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOFLAGS="")
    env.setdefault("GOCACHE", str(tmp_path_factory.mktemp("gocache")))
    r = subprocess.run([GO, "build", "-o", str(out), os.path.join(HELM_TESTS, "render.go")],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    return str(out)


class Rendered:
    def __init__(self, text):
        self.text = text
        self.docs = []
        # Every document comes with Helm's "# Source:" line naming its template.
        for chunk in text.split("---\n")[1:]:
            source = re.match(r"# Source: (glimpse/templates/[\w.-]+\.yaml)\n", chunk)
            assert source, f"document without a Source line: {chunk[:80]!r}"
            doc = yaml.safe_load(chunk)
            assert isinstance(doc, dict), f"{source.group(1)} is not a YAML mapping"
            for key in ("apiVersion", "kind", "metadata"):
                assert key in doc, f"{source.group(1)}: no {key}"
            self.docs.append(doc)
        # PyYAML reads the whole stream the same way.
        assert len([d for d in yaml.safe_load_all(text) if d is not None]) == len(self.docs)

    def kinds(self):
        return [d["kind"] for d in self.docs]

    def get(self, kind):
        found = [d for d in self.docs if d["kind"] == kind]
        assert len(found) == 1, f"{len(found)} {kind} documents"
        return found[0]

    @property
    def pod(self):
        return self.get("DaemonSet")["spec"]["template"]

    @property
    def container(self):
        containers = self.pod["spec"]["containers"]
        assert len(containers) == 1
        return containers[0]

    def env(self):
        return {e["name"]: e for e in self.container["env"]}

    def config(self):
        return yaml.safe_load(self.get("ConfigMap")["data"]["config.yaml"])


def render(renderer, *args, check=True):
    r = subprocess.run([renderer, "--namespace", "glimpse", *args, CHART], capture_output=True,
                       text=True, timeout=60)
    if not check:
        return r
    assert r.returncode == 0, r.stderr
    return Rendered(r.stdout)


@pytest.fixture(scope="module")
def default(renderer):
    return render(renderer)


@pytest.fixture(scope="module")
def capmode(renderer):
    return render(renderer, "-f", CAPS_VALUES)


def chart_values():
    with open(os.path.join(CHART, "values.yaml")) as f:
        return yaml.safe_load(f)


VALUE_SETS = {"default": [], "capabilities": ["-f", CAPS_VALUES], "otlp": ["-f", OTLP_VALUES],
              "both": ["-f", OTLP_VALUES, "-f", CAPS_VALUES]}


@pytest.mark.parametrize("name", VALUE_SETS)
def test_stream_parses_and_passes_yamllint(renderer, tmp_path, name):
    rendered = render(renderer, *VALUE_SETS[name])
    assert rendered.kinds()[-1] == "DaemonSet"  # Helm's install order: dependencies first
    stream = tmp_path / "stream.yaml"
    stream.write_text(rendered.text)
    relaxed = subprocess.run(["yamllint", "-f", "parsable", "-d", "relaxed", str(stream)],
                             capture_output=True, text=True)
    assert relaxed.returncode == 0, relaxed.stdout
    # The project's rules (relaxed, 100 columns): not even a warning.
    strict = subprocess.run(["yamllint", "-f", "parsable", "-s", "-c", LINT_CONFIG, str(stream)],
                            capture_output=True, text=True)
    assert strict.returncode == 0, strict.stdout


def test_chart_files_pass_yamllint():
    files = [os.path.join(CHART, "Chart.yaml"), os.path.join(CHART, "values.yaml"), CAPS_VALUES,
             OTLP_VALUES, LINT_CONFIG]
    r = subprocess.run(["yamllint", "-f", "parsable", "-s", "-c", LINT_CONFIG, *files],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
    with open(os.path.join(CHART, "Chart.yaml")) as f:
        chart = yaml.safe_load(f)
    assert (chart["apiVersion"], chart["name"], chart["version"], chart["appVersion"]) == \
        ("v2", "glimpse", "0.1.0", "0.1.0")


def test_default_objects(default):
    assert sorted(default.kinds()) == ["ConfigMap", "DaemonSet", "Service", "ServiceAccount"]
    ds = default.get("DaemonSet")
    assert ds["apiVersion"] == "apps/v1"
    assert ds["spec"]["updateStrategy"]["type"] == "RollingUpdate"
    spec = default.pod["spec"]
    assert spec["hostPID"] is True
    assert spec["hostNetwork"] is False
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["tolerations"] == [{"operator": "Exists"}]
    assert "priorityClassName" not in spec
    c = default.container
    assert c["image"] == "glimpse:0.1.0"
    assert c["args"] == ["agent", "--config", "/etc/glimpse/config.yaml"]
    limits, requests = c["resources"]["limits"], c["resources"]["requests"]
    assert limits["memory"] and limits["cpu"] and requests["memory"] and requests["cpu"]


def test_privileged_by_default(default):
    sc = default.container["securityContext"]
    assert sc["privileged"] is True
    assert "capabilities" not in sc
    assert sc["readOnlyRootFilesystem"] is True


def test_capability_mode(capmode):
    sc = capmode.container["securityContext"]
    assert sc["privileged"] is False
    assert sc["runAsUser"] == 0
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert sc["capabilities"]["add"] == CAPABILITIES
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert sc["readOnlyRootFilesystem"] is True
    # Everything else is as in privileged mode.
    assert capmode.pod["spec"]["hostPID"] is True


@pytest.mark.parametrize("mode", ["default", "capmode"])
def test_host_mounts(request, mode):
    rendered = request.getfixturevalue(mode)
    volumes = {v["name"]: v for v in rendered.pod["spec"]["volumes"]}
    mounts = {m["mountPath"]: m for m in rendered.container["volumeMounts"]}
    host = {volumes[m["name"]]["hostPath"]["path"]: m for m in mounts.values()
            if "hostPath" in volumes[m["name"]]}
    assert set(host) == {"/sys/fs/cgroup", "/sys/kernel/btf"}
    for path, mount in host.items():
        assert mount["mountPath"] == path and mount["readOnly"] is True
    # hostPID makes the container's /proc the host's; tracefs/debugfs are not used.
    assert not {"/proc", "/host/proc", "/sys/kernel/debug", "/sys/kernel/tracing"} & set(mounts)
    config = mounts["/etc/glimpse"]
    assert config["readOnly"] is True
    assert volumes[config["name"]]["configMap"]["name"] == rendered.get("ConfigMap")["metadata"]["name"]


def test_configmap_is_the_values_config(default):
    config = default.config()
    assert config == chart_values()["config"]
    assert set(config) == set(SCHEMA)
    for section, keys in SCHEMA.items():
        if keys:
            assert set(config[section]) == keys, section
    assert config["log_format"] == "json"
    assert config["prometheus"]["address"] == "0.0.0.0:9464"
    assert config["otlp"]["endpoint"] == ""
    assert config["traces"]["sampler"] == "parentbased_always_on"
    [selector] = config["selectors"]
    assert selector["name"] == "all-go-services"
    assert set(selector["match"]) <= MATCH_KEYS
    assert selector["match"]["container_id"] == "?*"  # pods, not the node's own daemons
    assert set(selector["signals"]) == SIGNAL_KEYS
    assert selector["signals"]["cpu_profile_hz"] == 19


def test_environment(default):
    env = default.env()
    names = [e["name"] for e in default.container["env"]]
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    attrs = env["OTEL_RESOURCE_ATTRIBUTES"]["value"].split(",")
    assert "k8s.node.name=$(NODE_NAME)" in attrs
    # Kubernetes expands $(VAR) only from variables defined earlier in the list.
    assert names.index("NODE_NAME") < names.index("OTEL_RESOURCE_ATTRIBUTES")
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env
    assert "OTEL_SERVICE_NAME" not in env  # would rename every instrumented service


def test_otlp_endpoint_set_like_readme(renderer):
    rendered = render(renderer, "--set", f"otlp.endpoint={COLLECTOR}")
    assert rendered.env()["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == COLLECTOR


def test_other_values(renderer):
    rendered = render(renderer, "-f", OTLP_VALUES)
    env = rendered.env()
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == COLLECTOR
    assert env["OTEL_RESOURCE_ATTRIBUTES"]["value"] == \
        "k8s.node.name=$(NODE_NAME),host.name=$(NODE_NAME),k8s.cluster.name=test-cluster"
    assert env["OTEL_EXPORTER_OTLP_HEADERS"]["value"] == "x-tenant=test"
    spec = rendered.pod["spec"]
    assert spec["hostNetwork"] is True and spec["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert spec["priorityClassName"] == "system-node-critical"
    assert "ServiceAccount" not in rendered.kinds() and spec["serviceAccountName"] == "default"
    # Scrape annotations on the pods instead of the Service, never both.
    assert rendered.pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert "annotations" not in rendered.get("Service")["metadata"]
    mounts = {m["mountPath"]: m["name"] for m in rendered.container["volumeMounts"]}
    assert mounts["/var/lib/glimpse/profiles"] == "profiles"
    config = rendered.config()
    assert config["profiles"]["directory"] == "/var/lib/glimpse/profiles"
    assert [s["name"] for s in config["selectors"]] == ["checkout"]  # a list replaces the default
    assert config["otlp"] == chart_values()["config"]["otlp"]  # maps merge key by key


def test_port_and_probes(default):
    c = default.container
    assert c["ports"] == [{"name": "metrics", "containerPort": 9464, "protocol": "TCP"}]
    for probe in ("livenessProbe", "readinessProbe"):
        assert c[probe]["httpGet"] == {"path": "/healthz", "port": "metrics"}


def test_port_follows_prometheus_address(renderer):
    rendered = render(renderer, "--set", "config.prometheus.address=0.0.0.0:9555")
    assert rendered.container["ports"][0]["containerPort"] == 9555
    service = rendered.get("Service")
    assert service["spec"]["ports"][0]["port"] == 9555
    assert service["metadata"]["annotations"]["prometheus.io/port"] == "9555"


def test_service(default):
    service = default.get("Service")
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9464, "targetPort": "metrics",
                                         "protocol": "TCP"}]
    assert service["metadata"]["annotations"] == {"prometheus.io/scrape": "true",
                                                  "prometheus.io/port": "9464",
                                                  "prometheus.io/path": "/metrics"}
    assert "prometheus.io/scrape" not in default.pod["metadata"]["annotations"]


def test_labels_names_and_selectors(renderer):
    rendered = render(renderer, "--name", "obs")
    for doc in rendered.docs:
        labels = doc["metadata"]["labels"]
        assert doc["metadata"]["name"] == "obs-glimpse"
        assert doc["metadata"]["namespace"] == "glimpse"
        assert labels["app.kubernetes.io/name"] == "glimpse"
        assert labels["app.kubernetes.io/instance"] == "obs"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/version"] == "0.1.0"
        assert labels["helm.sh/chart"] == "glimpse-0.1.0"
    ds = rendered.get("DaemonSet")
    selector = ds["spec"]["selector"]["matchLabels"]
    assert selector == {"app.kubernetes.io/name": "glimpse", "app.kubernetes.io/instance": "obs"}
    pod_labels = rendered.pod["metadata"]["labels"]
    assert selector.items() <= pod_labels.items()
    assert rendered.get("Service")["spec"]["selector"] == selector
    assert rendered.pod["spec"]["serviceAccountName"] == rendered.get("ServiceAccount")["metadata"]["name"]
    # A release named after the chart is not doubled.
    assert render(renderer, "--name", "glimpse").get("DaemonSet")["metadata"]["name"] == "glimpse"


def test_config_change_rolls_the_pods(default, renderer):
    other = render(renderer, "--set", "config.traces.sampler_arg=0.5")
    key = "checksum/config"
    assert re.fullmatch(r"[0-9a-f]{64}", default.pod["metadata"]["annotations"][key])
    assert other.pod["metadata"]["annotations"][key] != default.pod["metadata"]["annotations"][key]


@pytest.mark.parametrize("setting,message", [
    ("securityMode=root", "securityMode must be privileged or capabilities"),
    ("prometheus.annotate=both", "prometheus.annotate must be service or pod"),
    ("config.prometheus.address=", "config.prometheus.address is required"),
    ("config.prometheus.address=localhost", "must end in :PORT"),
])
def test_bad_values_are_refused(renderer, setting, message):
    r = render(renderer, "--set", setting, check=False)
    assert r.returncode != 0
    assert message in r.stderr


@pytest.mark.parametrize("args,expect", [
    ([], "privileged"),
    (["-f", CAPS_VALUES], "capabilities: " + ", ".join(CAPABILITIES)),
    (["--set", f"otlp.endpoint={COLLECTOR}"], f"go to {COLLECTOR}"),
])
def test_notes(renderer, args, expect):
    r = subprocess.run([renderer, "--notes", "--namespace", "glimpse", *args, CHART],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert expect in r.stdout
    assert "kubectl -n glimpse port-forward ds/glimpse 9464" in r.stdout


# ---- the rendered pod's configuration and privileges, run for real -------------------------

def agent_available():
    if os.geteuid() != 0 or not os.path.exists(GLIMPSE):
        return False
    return subprocess.run([GLIMPSE, "agent", "--help"], capture_output=True).returncode == 0


def kubelet_env(container, downward):
    """The container's environment as the kubelet builds it: downward-API fields, then $(VAR)
    expanded from variables defined earlier in the list."""
    env = {}
    for e in container["env"]:
        if "valueFrom" in e:
            env[e["name"]] = downward[e["valueFrom"]["fieldRef"]["fieldPath"]]
        else:
            env[e["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), e["value"])
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except (urllib.error.URLError, OSError):
        return None, ""


@pytest.mark.skipif(not agent_available(), reason="needs root and build/glimpse with the agent command")
def test_agent_runs_with_rendered_config_and_capabilities(renderer, tmp_path):
    """The pod as capability mode renders it — config.yaml, environment, exactly the listed
    capabilities as the bounding set, root without the others — instruments a Go service run
    by another user (as every pod's process is to the agent): uprobes, /proc (a port selector
    reads the target's /proc/PID/fd) and /healthz."""
    port = free_port()
    # The target is named by pid, so the agent touches nothing else on this machine.
    svc = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            os.path.join(APPS, "httpsvc-1.23")],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    agent = None
    try:
        _, pid, addr = svc.stdout.readline().split()
        selector = {
            "name": "under-test",
            "match": {"exe": "*/httpsvc-*", "pids": [int(pid)], "port": int(addr.rsplit(":", 1)[1])},
            "signals": {"http_metrics": True, "traces": True, "runtime": True, "cpu_profile": True,
                        "cpu_profile_hz": 19, "offcpu_profile": False},
        }
        values = tmp_path / "values.yaml"
        values.write_text(yaml.safe_dump({"config": {
            "log_format": "human",
            "prometheus": {"address": f"127.0.0.1:{port}"},
            "selectors": [selector],
        }}))
        rendered = render(renderer, "-f", CAPS_VALUES, "-f", str(values))
        config = tmp_path / "config.yaml"
        config.write_text(rendered.get("ConfigMap")["data"]["config.yaml"])
        caps = rendered.container["securityContext"]["capabilities"]
        assert caps["drop"] == ["ALL"]
        bounding = "-all," + ",".join("+" + c.lower() for c in caps["add"])
        env = kubelet_env(rendered.container, {"spec.nodeName": "node-under-test",
                                               "metadata.name": "glimpse-test",
                                               "metadata.namespace": "glimpse"})
        assert env["OTEL_RESOURCE_ATTRIBUTES"].startswith("k8s.node.name=node-under-test,")
        env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        args = rendered.container["args"]
        assert args[:2] == ["agent", "--config"]
        log = tmp_path / "agent.log"
        with open(log, "w") as logf:
            agent = subprocess.Popen(["setpriv", f"--bounding-set={bounding}", "--inh-caps=-all", "--",
                                      GLIMPSE, "agent", "--config", str(config)],
                                     stdout=logf, stderr=subprocess.STDOUT, env=env)
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while time.time() < deadline and agent.poll() is None:
            if http_get(base + "/healthz")[0] == 200 and f"instrumented pid={pid}" in log.read_text():
                break
            time.sleep(0.2)
        assert agent.poll() is None, log.read_text()
        assert http_get(base + "/healthz")[0] == 200, log.read_text()
        for _ in range(20):
            assert http_get(f"http://{addr}/users/42")[0] == 200
        series = re.compile(r'^http_server_request_duration_seconds_count\{[^}]*'
                            r'http_route="/users/\{id\}"[^}]*\} (\d+)$', re.M)
        count = None
        deadline = time.time() + 10
        while time.time() < deadline:
            m = series.search(http_get(base + "/metrics")[1])
            count = int(m.group(1)) if m else None
            if count == 20:
                break
            time.sleep(0.2)
        assert count == 20, log.read_text()
        assert "Permission denied" not in log.read_text()
    finally:
        if agent and agent.poll() is None:
            agent.terminate()
            try:
                agent.wait(timeout=10)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait()
        svc.kill()
        svc.wait()
