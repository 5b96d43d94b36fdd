"""k8s-pod-scale against the local fake API server, through the real kubernetes client.

Expected values are worked by hand from the ClusterScript below (virtual seconds):
ReplicaSet 1 s after the Deployment; scheduler 2 s; Initialized 1 s after binding;
image pull 4 s; Ready 1 s after ContainersReady; autoscaler adds nodes 10 s after the
first failed scheduling; a node boots in 40 s. Two 2-CPU nodes exist; 6 pods of 1 CPU:
4 fit at once, 2 wait for one new node.
  fitting pod: scheduled 2, initialized 3, containers ready 7, ready 8 (from pod creation)
  waiting pod: scale-up at 2+10 = 12, node Ready at 52, scheduled 54, init 55, cr 59, ready 60
  node: created -> Ready 40; Deployment -> last node Ready 1+12+40 = 53;
  Deployment -> last pod Ready 1+60 = 61.
Nearest-rank percentiles of [2,2,2,2,54,54]: p50 = 3rd = 2; p90 = 6th = 54.
"""

from __future__ import annotations

import re
import time

import pytest

client = pytest.importorskip("kubernetes.client")

from bench.k8s.pod_scale import PodScaleParams, run_pod_scale  # noqa: E402
from bench.k8s.pod_stamps import percentile  # noqa: E402
from stacks.k8s_fake.fake_api import FakeApiServer  # noqa: E402
from stacks.k8s_fake.fake_cluster import ClusterScript, Faults, rfc3339  # noqa: E402


@pytest.fixture(autouse=True)
def no_watch_left_running():
    """Every run stops its watch threads, on every path: a watch left reading a socket at
    interpreter exit aborted the whole pytest process (exit 134) after all tests passed."""
    import threading

    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
            t.name.startswith("watch-") for t in threading.enumerate()):
        time.sleep(0.05)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("watch-")]

SCRIPT = dict(initial_nodes=2, node_cpu_m=2000, replicaset_delay=1, scheduler_delay=2,
              init_delay=1, pull_delay=4, ready_delay=1, autoscaler_delay=10,
              node_boot_delay=40, max_nodes=5)
PARAMS = PodScaleParams(replicas=6, cpu_request="1", expected_new_nodes=1, timeout_s=15,
                        read_timeout_s=2)
EXPECTED = {
    ("pod_scheduled_s", 50.0): 2, ("pod_scheduled_s", 90.0): 54, ("pod_scheduled_s", 100.0): 54,
    ("pod_initialized_s", 50.0): 3, ("pod_initialized_s", 90.0): 55,
    ("pod_containers_ready_s", 50.0): 7, ("pod_containers_ready_s", 90.0): 59,
    ("pod_ready_s", 50.0): 8, ("pod_ready_s", 90.0): 60, ("pod_ready_s", 100.0): 60,
    ("time_to_all_pods_ready_s", None): 61, ("time_to_last_node_ready_s", None): 53,
    ("node_ready_s", None): 40, ("new_nodes", None): 1,
}


def _run(script: ClusterScript, params: PodScaleParams, **server_kw):
    with FakeApiServer(script, scale=120, **server_kw) as srv:
        cfg = client.Configuration()
        cfg.host = srv.url
        with client.ApiClient(cfg) as api:
            out = run_pod_scale(api, params)
        return out, srv


def _values(out) -> dict:
    return {(s.metric, s.metadata.get("percentile")): s.value for s in out.samples}


def _assert_expected(out) -> None:
    got = _values(out)
    for key, want in EXPECTED.items():
        assert got[key] == want, (key, got[key], want)


def test_scripted_delays_come_out_as_measured() -> None:
    out, srv = _run(ClusterScript(**SCRIPT), PARAMS)
    assert out.valid, out.invalid_reason
    _assert_expected(out)
    # events the script emits: 6 bindings, 2 failed first attempts, one scale-up, 6 starts
    assert out.samples[0].metadata["events"] == {
        "FailedScheduling": 2, "Scheduled": 6, "Started": 6, "TriggeredScaleUp": 1}
    # cleanup removed the Deployment and its pods from the cluster
    with srv.cluster.store.cond:
        kinds = {k for (k, _, _) in srv.cluster.store.objects}
    assert "Deployment" not in kinds and "Pod" not in kinds


def test_dropped_watches_and_410_gone_are_survived() -> None:
    faults = Faults(drop_after=2, drops=2, compact_on_drop=True)
    out, srv = _run(ClusterScript(**SCRIPT), PARAMS, faults=faults)
    # the faults really happened (which watch hits the 410 first depends on thread timing)
    assert srv.drops >= 1 and srv.gone >= 1
    assert out.valid, out.invalid_reason
    _assert_expected(out)
    watch = out.samples[0].metadata["watch"]
    assert watch["pods"]["relists"] + watch["nodes"]["relists"] >= 1


def test_dropped_watch_resumes_from_resource_version_without_losing_events() -> None:
    out, srv = _run(ClusterScript(**SCRIPT), PARAMS, faults=Faults(drop_after=2, drops=2))
    assert srv.drops >= 1 and srv.gone == 0
    assert out.valid, out.invalid_reason
    # every pod ADDED/MODIFIED the server emitted reached the watcher exactly once
    emitted = sum(1 for _, t, k, _ in srv.cluster.store.history if k == "Pod" and t != "DELETED")
    watch = out.samples[0].metadata["watch"]["pods"]
    assert watch["reconnects"] >= 1          # the pod watch is one of the first two: cut
    assert watch["relists"] == 0 and watch["events"] == emitted


def test_node_that_never_becomes_ready_fails_with_that_reason_in_bounded_time() -> None:
    script = ClusterScript(**dict(SCRIPT, never_ready_nodes=1))
    params = PodScaleParams(replicas=6, cpu_request="1", expected_new_nodes=1, timeout_s=1.5,
                            read_timeout_s=1)
    t0 = time.monotonic()
    out, _ = _run(script, params)
    assert time.monotonic() - t0 < 1.5 + 10      # timeout plus watcher shutdown and cleanup
    assert not out.valid
    assert "4/6 pods Ready" in out.invalid_reason
    assert "node node-2 created" in out.invalid_reason
    assert "never became Ready (KubeletNotReady" in out.invalid_reason
    # the pods that did run are still measured
    assert _values(out)[("pod_ready_s", 100.0)] == 8


def test_expected_nodes_not_created_is_the_reason() -> None:
    # 4 pods of 1 CPU fit on the two 2-CPU nodes: all Ready, but no scale-up was measured
    script = ClusterScript(**SCRIPT)
    params = PodScaleParams(replicas=4, cpu_request="1", expected_new_nodes=1, timeout_s=1,
                            read_timeout_s=1)
    out, _ = _run(script, params)
    assert not out.valid
    assert "4/4 pods Ready" in out.invalid_reason
    assert "expected at least 1 new nodes, 0 created" in out.invalid_reason


def test_clock_offset_is_the_api_servers_date_minus_ours() -> None:
    skew = 3600.0
    with FakeApiServer(ClusterScript(**SCRIPT), scale=1.0,
                       clock_origin=time.time() + skew) as srv:
        cfg = client.Configuration()
        cfg.host = srv.url
        with client.ApiClient(cfg) as api:
            from bench.k8s.pod_scale import measure_clock_offset
            got = measure_clock_offset(api)
    assert abs(got["offset_s"] - skew) <= got["uncertainty_s"] + 0.05


def test_unreachable_cluster_is_a_reason_not_a_traceback() -> None:
    cfg = client.Configuration()
    cfg.host = "http://127.0.0.1:9"          # discard port: nothing listens
    cfg.retries = 0
    with client.ApiClient(cfg) as api:
        out = run_pod_scale(api, PodScaleParams(timeout_s=1))
    assert not out.valid and out.invalid_reason.startswith("cluster not reachable")


def test_nearest_rank_percentile_by_hand() -> None:
    # 10 values 1..10: p50 -> rank 5 -> 5; p90 -> rank 9 -> 9; p99 -> rank 10 -> 10
    vals = [float(v) for v in range(10, 0, -1)]
    assert [percentile(vals, p) for p in (50, 90, 99, 100)] == [5, 9, 10, 10]


def test_existing_deployment_is_a_reason_and_bad_params_name_the_field() -> None:
    with FakeApiServer(ClusterScript(**SCRIPT), scale=120) as srv:
        cfg = client.Configuration()
        cfg.host = srv.url
        with client.ApiClient(cfg) as api:
            first = run_pod_scale(api, PodScaleParams(replicas=1, cpu_request="100m",
                                                      timeout_s=10, cleanup=False))
            second = run_pod_scale(api, PodScaleParams(replicas=1, timeout_s=10))
    assert first.valid, first.invalid_reason
    assert not second.valid
    assert second.invalid_reason.startswith("creating Deployment bakeoff-pod-scale: 409")
    with pytest.raises(ValueError, match="replicas must be at least 1, got 0"):
        PodScaleParams(replicas=0)
    with pytest.raises(ValueError, match="timeout_s must be positive"):
        PodScaleParams(timeout_s=-1)


def test_events_list_and_watch_with_bookmarks_through_the_real_client() -> None:
    from kubernetes import watch
    with FakeApiServer(ClusterScript(**SCRIPT), scale=120) as srv:
        cfg = client.Configuration()
        cfg.host = srv.url
        with client.ApiClient(cfg) as api:
            core = client.CoreV1Api(api)
            rv = core.list_namespaced_event("default").metadata.resource_version
            assert run_pod_scale(api, PARAMS).valid
            seen: dict[tuple, int] = {}
            for ev in watch.Watch().stream(core.list_namespaced_event, "default",
                                           resource_version=rv, allow_watch_bookmarks=True,
                                           timeout_seconds=1):
                key = (ev["type"], getattr(ev["object"], "reason", None))
                seen[key] = seen.get(key, 0) + 1
    # by hand from SCRIPT: 6 bindings, 2 failed first attempts, 1 scale-up, 6 starts,
    # 1 new node Ready; at least one bookmark in the idle second of the watch
    assert seen.pop(("BOOKMARK", None)) >= 1
    assert seen == {("ADDED", "Scheduled"): 6, ("ADDED", "FailedScheduling"): 2,
                    ("ADDED", "Started"): 6, ("ADDED", "TriggeredScaleUp"): 1,
                    ("ADDED", "NodeReady"): 1}


def test_stopping_an_idle_watch_does_not_wait_for_the_read_timeout() -> None:
    # no bookmarks (interval 1000 s) and a 30 s read timeout: only closing the stream
    # under the reading thread lets stop() return quickly
    from bench.k8s.watcher import KindWatcher
    with FakeApiServer(ClusterScript(**SCRIPT), scale=120, bookmark_interval=1000) as srv:
        cfg = client.Configuration()
        cfg.host = srv.url
        with client.ApiClient(cfg) as api:
            w = KindWatcher(client.CoreV1Api(api).list_node, on_change=lambda: None,
                            read_timeout_s=30)
            w.start()
            time.sleep(0.3)                   # the watch is open and idle
            t0 = time.monotonic()
            w.stop()
            took = time.monotonic() - t0
    assert len(w.snapshot()) == 2
    assert took < 10, took


def test_a_previous_runs_pods_with_the_same_label_are_not_counted() -> None:
    # a Ready pod labelled app=bakeoff-pod-scale, created an hour before, terminating:
    # counted, it would make 6 "Ready" pods before the two slow ones are and end early
    with FakeApiServer(ClusterScript(**SCRIPT), scale=120) as srv:
        cluster = srv.cluster
        old = cluster.clock.now() - 3600
        for i in range(2):
            cluster.store.put({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": cluster._meta(f"old-{i}", old, "default",
                                          labels={"app": "bakeoff-pod-scale"},
                                          deletionTimestamp=rfc3339(old + 60)),
                "spec": {"containers": [{"name": "pause", "image": "pause"}]},
                "status": {"phase": "Running", "conditions": [
                    {"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(old)}]}})
        cfg = client.Configuration()
        cfg.host = srv.url
        with client.ApiClient(cfg) as api:
            out = run_pod_scale(api, PARAMS)
    assert out.valid, out.invalid_reason
    _assert_expected(out)


def test_an_object_the_client_cannot_read_is_named_in_the_reason() -> None:
    # a pod condition without its required `status`: the client's model refuses it
    with FakeApiServer(ClusterScript(**SCRIPT), scale=120) as srv:
        cluster = srv.cluster
        broken = {"apiVersion": "v1", "kind": "Pod",
                  "metadata": cluster._meta("broken", cluster.clock.now() + 3600, "default",
                                            labels={"app": "bakeoff-pod-scale"}),
                  "spec": {"containers": [{"name": "pause", "image": "pause"}]},
                  "status": {"conditions": [{"type": "Ready"}]}}
        cfg = client.Configuration()
        cfg.host = srv.url
        with client.ApiClient(cfg) as api:
            # in the first list: refused before anything is created
            cluster.store.put(dict(broken))
            first = run_pod_scale(api, PodScaleParams(replicas=1, timeout_s=1.5))
            cluster.store.put(dict(broken), "DELETED")
            # during the run (shown by the watch, then in every re-list): named at timeout;
            # it appears once the Deployment is created, so after the watchers' first list
            create = cluster.create_deployment

            def create_then_break(ns, body):
                dep = create(ns, body)
                cluster.store.put(dict(broken))
                return dep
            cluster.create_deployment = create_then_break
            # (a new node is expected and never comes, so the run lasts its whole timeout)
            out = run_pod_scale(api, PodScaleParams(replicas=1, cpu_request="100m",
                                                    expected_new_nodes=1, timeout_s=1.5,
                                                    read_timeout_s=1))
    assert not first.valid
    assert first.invalid_reason.startswith("the client could not read the cluster's answer")
    assert not out.valid
    # (the watch, then each re-list, fails: how many depends on the timeout)
    assert re.search(r"; the client could not read \d+ responses: 1 validation error for "
                     r"V1PodCondition", out.invalid_reason), out.invalid_reason
