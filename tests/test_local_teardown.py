"""A local site's teardown goes on past a part that fails to stop.

`LocalProvisioner.down` stops the simulated cluster, the function site and PostgreSQL,
then removes the network pair and the hosts' scratch directories. One part failing to
stop must not leave the others running or their directories in /tmp: the error is
raised after everything else was undone, naming the part.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.scenarios import parse_campaign
from core.errors import PrerequisiteError
from stacks.local import LocalProvisioner
from tests.cloud_fake import _running


class _Stuck:
    """Stands in for a function site whose stop fails (the real one stops cleanly here)."""

    def stop(self) -> None:
        raise OSError("its process would not die")


def test_a_part_that_fails_to_stop_leaves_nothing_else_behind():
    c = parse_campaign({"name": "t", "sites": [{
        "name": "td", "provider": "local", "cpus": 1, "hourly_usd": 0.01,
        "network": "loopback", "database": {}}]})
    prov = LocalProvisioner()
    env = prov.up(c.sites[0], c, "test-teardown")
    scratch = [Path(h.facts["scratch_dir"]) for h in env.hosts.values()]
    pg = prov._teardown["td"].postgres
    root = Path(pg.root)
    pid = int((pg.datadir / "postmaster.pid").read_text().splitlines()[0])
    assert _running(pid) and all(p.is_dir() for p in scratch)
    prov._teardown["td"].function = _Stuck()
    try:
        with pytest.raises(PrerequisiteError) as err:
            prov.down(env)
        assert str(err.value) == "teardown incomplete: function site: its process would not die"
        assert not _running(pid), "PostgreSQL was left running"
        assert not root.exists()
        assert [p for p in scratch if p.exists()] == [], "scratch directories were left"
    finally:  # a failing run leaves nothing either
        pg.stop()
        for p in scratch:
            shutil.rmtree(p, ignore_errors=True)
