"""Provider rules for the Karpenter parts of an EKS site (stacks/cloud/k8s_karpenter_aws.py):
what SQS, EventBridge, IAM, EKS and Karpenter's own CRD validation refuse and a Pulumi
mock accepts. rules_k8s.AWS_RULES takes them with one line.
"""

from __future__ import annotations

import re
from typing import Any

from stacks.cloud.rules import Rule, charset, one_of, tag_map, text

QUEUE = "aws:sqs/queue:Queue"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
ACCESS = "aws:eks/accessEntry:AccessEntry"
NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
NODECLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
NAMES = {QUEUE: "name", EVENT_RULE: "name", PROFILE: "name"}

# CreateQueue QueueName: "up to 80 characters ... alphanumeric characters, hyphens (-), and
# underscores (_)" (a FIFO queue adds '.fifo'; Karpenter's queue is a standard one).
SQS_SRC = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html"
# PutRule Name and PutTargets Target.Id: 1..64 of [\\.\\-_A-Za-z0-9]+.
EVENTS_SRC = ("https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html; "
              "API_Target.html (Id)")
PROFILE_SRC = ("https://docs.aws.amazon.com/IAM/latest/APIReference/"
               "API_CreateInstanceProfile.html (InstanceProfileName: 1..128 of [\\w+=,.@-])")
ACCESS_SRC = "https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html"
ACCESS_TYPES = ("STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "EC2",
                "HYBRID_LINUX", "HYPERPOD_LINUX")
# The CRDs' OpenAPI and CEL validation at v1.14.1 (aws/karpenter-provider-aws,
# pkg/apis/crds/karpenter.sh_nodepools.yaml and karpenter.k8s.aws_ec2nodeclasses.yaml).
CRD_SRC = ("https://github.com/aws/karpenter-provider-aws/tree/v1.14.1/pkg/apis/crds "
           "(karpenter.sh_nodepools.yaml, karpenter.k8s.aws_ec2nodeclasses.yaml)")
RESTRICTED_TAGS = ("eks:eks-cluster-name", "karpenter.sh/nodepool", "karpenter.sh/nodeclaim",
                   "karpenter.k8s.aws/ec2nodeclass")
DURATION = r"(([0-9]+(s|m|h))+|Never)"
QUANTITY = (r"(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?"
            r"(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?")
# Karpenter copies EC2NodeClass tags to instances, volumes and launch templates: the EC2
# tag rules apply to them too (rules_aws.py TAG_CHARS, at most 50 tags).
_EC2_TAGS = tag_map(charset(r"\w .:/=+\-@", 128, 1), charset(r"\w .:/=+\-@", 256), 50)


def _restricted(tags: Any) -> str | None:
    if not isinstance(tags, dict):
        return None
    for k in tags:
        if k == "" or k in RESTRICTED_TAGS or str(k).startswith("kubernetes.io/cluster"):
            return f"tag key {k!r} is restricted (Karpenter sets it itself)"
    return None


def _limits(limits: Any) -> str | None:
    if not isinstance(limits, dict):
        return None
    for k, v in limits.items():
        if not re.fullmatch(QUANTITY, str(v)):
            return f"limits.{k} {v!r} is not a Kubernetes quantity"
    return None


_EVENT_NAME = text(r"[.\-_A-Za-z0-9]+", 64)
RULES = [
    Rule((QUEUE,), "@name", text(r"[A-Za-z0-9_-]+", 80),
         "SQS queue name: 1..80 of letters, digits, '-', '_'", SQS_SRC),
    Rule((EVENT_RULE,), "@name", _EVENT_NAME,
         "EventBridge rule name: 1..64 of letters, digits, '.', '-', '_'", EVENTS_SRC),
    Rule((EVENT_TARGET,), "targetId", _EVENT_NAME,
         "EventBridge target id: 1..64 of letters, digits, '.', '-', '_'", EVENTS_SRC),
    Rule((PROFILE,), "@name", text(r"[\w+=,.@-]+", 128),
         "instance profile name: 1..128 of letters, digits and + = , . @ - _", PROFILE_SRC),
    Rule((ACCESS,), "type", one_of(ACCESS_TYPES), "access entry type: "
         + ", ".join(ACCESS_TYPES), ACCESS_SRC),
    Rule((NODECLASS,), "spec.tags", _restricted, "EC2NodeClass tags: none of "
         + ", ".join(RESTRICTED_TAGS) + ", kubernetes.io/cluster/*, nor an empty key", CRD_SRC),
    Rule((NODECLASS,), "spec.tags", _EC2_TAGS, "EC2NodeClass tags become EC2 tags: at most "
         "50; key 1..128, value 0..256 of letters, digits, spaces and + - = . _ : / @",
         "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html"),
    Rule((NODEPOOL,), "spec.limits", _limits, "NodePool limits: Kubernetes quantities",
         CRD_SRC),
    Rule((NODEPOOL,), "spec.disruption.consolidateAfter", text(DURATION, 32),
         "consolidateAfter: a duration of s/m/h parts, or Never", CRD_SRC),
    Rule((NODEPOOL,), "spec.template.spec.expireAfter", text(DURATION, 32),
         "expireAfter: a duration of s/m/h parts, or Never", CRD_SRC),
]
