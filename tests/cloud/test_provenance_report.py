"""Provenance of what ran on a cloud site reaches the report from the manifest."""

from __future__ import annotations

from scoring.report import cloud_provenance_rows
from stacks.cloud.spec import provenance

# Stack outputs in the shape the AWS program exports (values as AWS would report them).
OUTPUTS = {
    "hosts": {"server": {"private_ip": "10.42.0.10", "public_ip": "192.0.2.1",
                         "zone": "us-east-1a", "instance_type": "c6i.large",
                         "id": "i-0abc", "image": "ami-0123",
                         "image_name": "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-"
                                       "server-20261120", "market": "spot",
                         "data_mount": "/data"}},
    "database": {"host": "db", "port": 5432, "user": "u", "password": "secret",
                 "dbname": "d", "kind": "rds", "zone": "us-east-1b", "id": "db-XYZ"},
}


def test_provenance_from_outputs_into_report_rows():
    prov = provenance(OUTPUTS)
    assert "password" not in str(prov) and "secret" not in str(prov)
    manifest = {"sites": {"aws": {"notes": {"provenance": prov}}, "here": {"notes": {}}}}
    rows = dict(cloud_provenance_rows(manifest))
    assert rows == {
        "aws: server": "i-0abc, c6i.large, us-east-1a, image ami-0123 "
                       "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261120, "
                       "spot",
        "aws: database": "kind rds, id db-XYZ, zone us-east-1b"}
