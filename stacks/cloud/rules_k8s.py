"""Provider rules for cluster sites (stacks/cloud/k8s_*.py): names, lengths and version
formats the EKS, AKS and GKE APIs refuse and Pulumi mocks accept. Each provider's table
(rules_aws.py, rules_azure.py, rules_gcp.py) adds these with one line, so `check_site`,
`bakeoff plan` and preflight apply them like the VM rules (stacks/cloud/rules.py).
"""

from __future__ import annotations

from stacks.cloud import rules_karpenter as karpenter
from stacks.cloud.rules import Rule, tag_map, text

# -- AWS ---------------------------------------------------------------------------------
EKS = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
IAM_ROLE = "aws:iam/role:Role"
# CreateCluster `name`: "alphanumeric characters (case-sensitive), hyphens, and
# underscores ... start with an alphanumeric character and can't be longer than 100"
# (EKS API reference, CreateCluster; the same text in the AWS SDKs' CreateClusterInput).
EKS_SRC = "https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html"
# Node group name: at most 63, a letter or digit first, then also '-' and '_'
# (pulumi-aws eks.NodeGroup nodeGroupName, from the CreateNodegroup API).
NODE_GROUP_SRC = ("https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html;"
                  " https://www.pulumi.com/registry/packages/aws/api-docs/eks/nodegroup/")
IAM_SRC = ("https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html "
           "(RoleName: 1..64 of [\\w+=,.@-])")
# EKS versions are "major.minor" (e.g. "1.31"); the patch is EKS's.
EKS_VERSION_SRC = "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html"

AWS_NAMES = {EKS: "name", NODE_GROUP: "nodeGroupName", IAM_ROLE: "name"}
AWS_NAMES.update(karpenter.NAMES)
AWS_RULES = [
    Rule((EKS,), "@name", text(r"[0-9A-Za-z][A-Za-z0-9_-]*", 100),
         "EKS cluster name: 1..100 of letters, digits, '-', '_'; first a letter or digit",
         EKS_SRC),
    Rule((EKS,), "version", text(r"1\.\d{1,2}", 5), "EKS version: major.minor, e.g. 1.31",
         EKS_VERSION_SRC),
    Rule((NODE_GROUP,), "@name", text(r"[0-9A-Za-z][A-Za-z0-9_-]*", 63),
         "node group name: 1..63 of letters, digits, '-', '_'; first a letter or digit",
         NODE_GROUP_SRC),
    Rule((IAM_ROLE,), "@name", text(r"[\w+=,.@-]+", 64),
         "IAM role name: 1..64 of letters, digits and + = , . @ - _", IAM_SRC),
    *karpenter.RULES,  # Karpenter's queue, rules, profile, NodePool, EC2NodeClass
]

# -- Azure -------------------------------------------------------------------------------
AKS = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
# managedClusters resourceName: ^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$
# (AKS REST API, Managed Clusters - Create Or Update, URI parameters).
AKS_SRC = "https://learn.microsoft.com/rest/api/aks/managed-clusters/create-or-update"
# dnsPrefix: 1..54, letters, digits and hyphens, first and last a letter or digit (the
# portal's rule, added to the AKS troubleshooting page after MicrosoftDocs/azure-docs#47952;
# terraform-provider-azurerm#20813 validates the same).
DNS_PREFIX_SRC = ("https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/"
                  "create-upgrade-delete/aks-common-issues-faq (naming restrictions)")
# Linux node pool names: 1..12 lowercase letters and digits, not a digit first
# (https://learn.microsoft.com/azure/aks/use-system-pools#limitations; the same limit in
# Azure/AKS-Construction#465).
POOL_SRC = "https://learn.microsoft.com/azure/aks/create-node-pools#limitations"
AKS_VERSION_SRC = "https://learn.microsoft.com/azure/aks/supported-kubernetes-versions"

AZURE_NAMES = {AKS: "resourceName", AGENT_POOL: "agentPoolName"}
AZURE_SERVICES = {"azure-native:containerservice:": "Microsoft.ContainerService"}
_POOL = text(r"[a-z][a-z0-9]*", 12)
AZURE_RULES = [
    Rule((AKS,), "@name", text(r"[a-zA-Z0-9]|[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]", 63),
         "AKS cluster name: 1..63 of letters, digits, '-', '_'; first and last a letter or "
         "digit", AKS_SRC),
    Rule((AKS,), "dnsPrefix", text(r"[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?", 54),
         "dns prefix: 1..54 of letters, digits, '-'; first and last a letter or digit",
         DNS_PREFIX_SRC),
    Rule((AKS,), "agentPoolProfiles[].name", _POOL,
         "Linux node pool name: 1..12 lowercase letters and digits, first a letter", POOL_SRC),
    Rule((AGENT_POOL,), "@name", _POOL,
         "Linux node pool name: 1..12 lowercase letters and digits, first a letter", POOL_SRC),
    Rule((AKS,), "kubernetesVersion", text(r"1\.\d{1,2}(\.\d{1,3})?", 9),
         "AKS version: major.minor or major.minor.patch", AKS_VERSION_SRC),
    Rule((AKS,), "nodeResourceGroup", text(r"[\w.()-]*[\w()-]", 80),
         "node resource group: a resource group name (1..90, here at most 80)",
         "https://learn.microsoft.com/azure/azure-resource-manager/management/"
         "resource-name-rules"),
]

# -- GCP ---------------------------------------------------------------------------------
GKE = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
# Cluster name: "Lowercase letters, numbers, and hyphens only. Must start with a letter.
# Must end with a number or a letter" (GKE REST API, projects.locations.clusters), at most
# 40 characters (the console and gcloud; GitLab's GKE integration and Azure/telescope#989
# met the same limit).
GKE_SRC = ("https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/"
           "projects.locations.clusters#Cluster (name)")
POOL_GCP_SRC = ("https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/"
                "projects.locations.clusters.nodePools#NodePool (name)")
GKE_VERSION_SRC = "https://cloud.google.com/kubernetes-engine/versioning"
GCP_NAMES = {GKE: "name", NODE_POOL: "name"}
GCP_SERVICES = {"gcp:container/": "container.googleapis.com"}
_DNS40 = text(r"[a-z]([-a-z0-9]*[a-z0-9])?", 40)
_LABELS = tag_map(text(r"[a-z][a-z0-9_-]*", 63), text(r"[a-z0-9_-]*", 63, 0), 64)
GCP_RULES = [
    Rule((GKE,), "@name", _DNS40, "GKE cluster name: 1..40 of a-z 0-9 '-', first a letter, "
         "last not '-'", GKE_SRC),
    Rule((NODE_POOL,), "@name", _DNS40, "node pool name: 1..40 of a-z 0-9 '-', first a "
         "letter, last not '-'", POOL_GCP_SRC),
    Rule((GKE,), "minMasterVersion", text(r"1\.\d{1,2}(\.\d+(-gke\.\d+)?)?", 30),
         "GKE version: 1.MINOR, 1.MINOR.PATCH or 1.MINOR.PATCH-gke.N", GKE_VERSION_SRC),
    Rule((GKE,), "resourceLabels", _LABELS, "cluster labels: as resource labels",
         "https://cloud.google.com/compute/docs/labeling-resources#requirements"),
    Rule((NODE_POOL,), "nodeConfig.resourceLabels", _LABELS, "node labels: as resource labels",
         "https://cloud.google.com/compute/docs/labeling-resources#requirements"),
]
GCP_NAMED = ("gcp:compute/router:Router", "gcp:compute/routerNat:RouterNat")
