"""GCP function site: the VM site (stacks/cloud/gcp.py) plus a Cloud Run service.

The package (stacks/cloud/fn_package.py: Dockerfile, requirements.txt, main.py and the
handler) is uploaded to a bucket and built by Cloud Build from source (the service's
build_config); the service scales to zero (min instances 0), serves one request per
instance (as Lambda does), runs the second-generation environment, and with `vpc: true`
sends private-range traffic through Direct VPC egress into the site's subnetwork
(https://cloud.google.com/run/docs/configuring/vpc-direct-vpc), reaching Cloud SQL's
private IP and the server VM. `allUsers` gets roles/run.invoker: the probe calls it
unauthenticated, like the Lambda function URL and the Functions anonymous trigger.

Names: Cloud Run service ids begin with a letter, do not end with '-', and have fewer than
50 characters (https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/create,
serviceId); buckets are global, 3..63 of a-z 0-9 '-' '_' '.'. Both checked by
stacks/cloud/rules_fn.py. Needs run.googleapis.com, cloudbuild.googleapis.com,
artifactregistry.googleapis.com and storage.googleapis.com enabled (`plan` lists them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
from pulumi_gcp import cloudrunv2, storage
from pulumi_gcp import config as gcp_config

from stacks.cloud.fn_common import (
    deploy_of,
    function_env,
    function_output,
    package_for,
    short_name,
    unique_name,
)
from stacks.cloud.spec import CloudSiteSpec

SERVICE_NAME_MAX = 49
REPOSITORY = "cloud-run-source-deploy"  # the Artifact Registry repository source deploys use


def program(spec: CloudSiteSpec, vm_program: Callable[[CloudSiteSpec], Any]) -> None:
    parts = vm_program(spec)
    fn = deploy_of(spec)
    labels = spec.labels()
    package = package_for(spec)
    bucket = storage.Bucket(spec.resource_name("fn-src"), name=unique_name(spec, "src", 63),
                            location=spec.region, uniform_bucket_level_access=True,
                            force_destroy=True, labels=labels)
    source = storage.BucketObject(spec.resource_name("fn-package"), bucket=bucket.name,
                                  name=f"{package.sha256[:16]}.zip",
                                  source=pulumi.FileAsset(str(package.path)))
    name = short_name(spec, "fn", SERVICE_NAME_MAX)
    project = gcp_config.project or "<project>"  # the provider's project at `up`
    image = f"{spec.region}-docker.pkg.dev/{project}/{REPOSITORY}/{name}"
    server_ip = parts["hosts"]["server"]["private_ip"]
    env = function_env(spec, parts["database"], server_ip)
    envs = env.apply(lambda e: [{"name": k, "value": v} for k, v in sorted(e.items())])
    template: dict[str, Any] = {
        "scaling": {"min_instance_count": 0, "max_instance_count": fn.max_instances},
        "max_instance_request_concurrency": 1, "timeout": f"{fn.timeout_s}s",
        "execution_environment": "EXECUTION_ENVIRONMENT_GEN2", "labels": labels,
        "containers": [{"image": image, "envs": pulumi.Output.secret(envs),
                        "resources": {"limits": {"memory": f"{fn.memory_mb}Mi", "cpu": "1"},
                                      "cpu_idle": True}}]}
    if fn.vpc:
        template["vpc_access"] = {"network_interfaces": [{"network": parts["net"].id,
                                                          "subnetwork": parts["subnet"].id}],
                                  "egress": "PRIVATE_RANGES_ONLY"}
    service = cloudrunv2.Service(
        spec.resource_name("fn"), name=name, location=spec.region, deletion_protection=False,
        ingress="INGRESS_TRAFFIC_ALL", labels=labels, template=template,
        build_config={"source_location": pulumi.Output.concat("gs://", bucket.name, "/",
                                                              source.name),
                      "image_uri": image})
    cloudrunv2.ServiceIamMember(spec.resource_name("fn-invoker"), name=service.name,
                                location=spec.region, role="roles/run.invoker",
                                member="allUsers")
    cold = {"method": "cloud-run-new-revision", "region": spec.region, "service": name,
            "env": "BAKEOFF_COLD_VERSION", "project": gcp_config.project}
    pulumi.export("function", function_output(spec, service.uri, name, cold, package))
