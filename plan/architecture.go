package plan

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dataplatform/dataplatform/internal/mocks"
)

// RuleArchitecture is the check that every image runs on the CPU
// architecture of the nodes its pods may land on.
const RuleArchitecture = "k8s/architecture"

// ImageArch says which CPU architectures an image is published for.
type ImageArch struct {
	// Architectures are Kubernetes' names: "amd64", "arm64".
	Architectures []string
	// Source is where that is known from (a build script at the release's
	// tag, a release workflow), and how sure it is.
	Source string
}

// ImageArchitectures are the images the platform runs, by repository (no
// registry for Docker Hub, no tag), with the architectures they are
// published for. An image not listed is taken to be amd64 only, the one
// architecture every image is built for: pin its pods with a nodeSelector
// on kubernetes.io/arch, or add it here with its source. The figures come
// from the images' build and release sources, read at the pinned versions
// (the research notes of issue 13); none could be checked against a
// registry from the offline build machines.
var ImageArchitectures = map[string]ImageArch{
	"airbyte/bootloader":              airbytePlatform,
	"airbyte/cron":                    airbytePlatform,
	"airbyte/server":                  airbytePlatform,
	"airbyte/worker":                  airbytePlatform,
	"airbyte/workload-api-server":     airbytePlatform,
	"airbyte/workload-launcher":       airbytePlatform,
	"airbyte/container-orchestrator":  airbytePlatform,
	"airbyte/connector-sidecar":       airbytePlatform,
	"airbyte/workload-init-container": airbytePlatform,
	"airbyte/async-profiler":          airbytePlatform,
	"airbyte/manifest-server":         {both, "airbytehq/airbyte-python-cdk v7.23.7 .github/workflows/publish.yml: platforms linux/amd64,linux/arm64"},
	"apache/airflow": {both, "apache/airflow .github/workflows/release_dockerhub_image.yml (amdOnly false: linux/amd64 and linux/arm64); the chart's pgbouncer images: " +
		"chart/dockerfiles/pgbouncer/build_and_push.sh 2025.03.05 (buildx --platform linux/amd64,linux/arm64); pgbouncer-exporter: the same script since 2024.01.19"},
	"temporalio/auto-setup":                           {both, "temporalio/docker-builds docker-bake.hcl platforms; src/image_copy/main.go refuses a release without linux/arm64 and linux/amd64"},
	"ghcr.io/external-secrets/external-secrets":       {both, "external-secrets v2.9.0 .github/workflows/ci.yml build-platform linux/amd64,linux/arm64,linux/s390x,linux/ppc64le"},
	"public.ecr.aws/eks/aws-load-balancer-controller": {both, "kubernetes-sigs/aws-load-balancer-controller v3.5.0 Makefile IMG_PLATFORM ?= linux/amd64,linux/arm64"},
	"public.ecr.aws/karpenter/controller":             {both, "aws/karpenter-provider-aws v1.14.1 .ko.yaml defaultPlatforms; hack/release/common.sh"},
	"registry.k8s.io/git-sync/git-sync":               {both, "kubernetes/git-sync v4.4.2 Makefile ALL_PLATFORMS"},
	"public.ecr.aws/docker/library/postgres":          {both, "docker-library/official-images library/postgres: Architectures of the alpine tags (ECR Public mirrors Docker Official Images)"},
	// Connectors are launched by Airbyte at run time; ConnectorImages
	// stands for all of them.
	ConnectorImages: {[]string{"amd64"}, "the one architecture every connector is built for: Airbyte's Python and manifest connectors are published for both " +
		"(.github/actions/connector-image-build-push), but its Java connectors' platforms come from a private build plugin, metadata.yaml has no architecture, " +
		"and third-party connectors are often amd64 only"},
}

var (
	both            = []string{"amd64", "arm64"}
	airbytePlatform = ImageArch{both, "inferred: built by Airbyte's private Gradle plugin (DockerBuildxTask) on amazoncorretto:21 (multi-arch); Docker Hub carries " +
		"linux/arm64 variants (airbytehq/airbyte#30801); airbyte-async-profiler picks the arm64 profiler on arm64 hosts"}
)

// ConnectorImages stands for the connector images Airbyte's job pods run.
const ConnectorImages = "(Airbyte connectors)"

// imageRepository strips an image reference of its tag, digest and Docker
// Hub's implicit names: "docker.io/library/postgres:17" is "postgres".
func imageRepository(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	image = strings.TrimPrefix(image, "docker.io/")
	return strings.TrimPrefix(image, "library/")
}

// ArchitecturesOf returns the architectures an image is published for, and
// where that is known from.
func ArchitecturesOf(image string) ImageArch {
	if a, ok := ImageArchitectures[imageRepository(image)]; ok {
		return a
	}
	return ImageArch{[]string{"amd64"}, "not in plan.ImageArchitectures: taken to be amd64 only"}
}

// landsOn returns the architectures of the nodes a pod spec may run on,
// with a node source of each.
func landsOn(spec map[string]any, sources []nodeSource) map[string]string {
	out := map[string]string{}
	for _, s := range sources {
		for _, arch := range s.labels["kubernetes.io/arch"] {
			one := s
			one.labels = map[string][]string{}
			for k, v := range s.labels {
				one.labels[k] = v
			}
			one.labels["kubernetes.io/arch"] = []string{arch}
			if ok, _ := one.fits(spec); ok {
				if _, seen := out[arch]; !seen {
					out[arch] = s.name
				}
			}
		}
	}
	return out
}

// checkArchitecture checks that every container of every pod (those of
// workloads, pod templates and Airbyte's job pods) has an image published
// for each architecture of the nodes the pod may land on: a NodePool that
// mixes arm64 and amd64 launches either, and a single-architecture image
// on the other fails with "exec format error".
func checkArchitecture(c *clusterView) []mocks.Violation {
	sources := c.nodeSources()
	if len(sources) == 0 {
		return nil
	}
	var out []mocks.Violation
	for _, o := range c.objects {
		if o.Kind != "Pod" || !o.Derived {
			continue
		}
		spec, _ := PodSpec(o.Body, "Pod")
		archs := landsOn(spec, sources)
		if len(archs) == 0 && strings.HasPrefix(o.From, "ConfigMap ") {
			// Pods made at run time are not covered by k8s/scheduling.
			out = append(out, c.violation(o, RuleArchitecture, "fit no node the plan provides: they would stay Pending"))
			continue
		}
		keys := make([]string, 0, len(archs))
		for a := range archs {
			keys = append(keys, a)
		}
		sort.Strings(keys)
		for _, list := range []string{"initContainers", "containers"} {
			for _, ctr := range listOf(spec[list]) {
				image := StringAt(ctr, "image")
				known, ok := c.p.images[imageRepository(image)]
				if !ok {
					known = ArchitecturesOf(image)
				}
				for _, arch := range keys {
					if !slices.Contains(known.Architectures, arch) {
						out = append(out, c.violation(o, RuleArchitecture, "container %s: image %s is published for %s only (%s), but the pods may land on %s nodes of %s: "+
							"pin them with nodeSelector kubernetes.io/arch=%s",
							StringAt(ctr, "name"), image, strings.Join(known.Architectures, " and "), known.Source, arch, archs[arch], known.Architectures[0]))
					}
				}
			}
		}
	}
	return out
}

// withEnv gives container ctr the keys of data as plain variables.
func withEnv(ctr map[string]any, data map[string]any, keys ...string) map[string]any {
	var env []any
	for _, k := range keys {
		if v, ok := data[k].(string); ok {
			env = append(env, map[string]any{"name": k, "value": v})
		}
	}
	ctr["env"] = env
	return ctr
}

// airbyteJobPods are the pods Airbyte's workload launcher starts for sync,
// check and discover jobs, as its environment ConfigMap describes them
// (the chart's templates/config/_jobs.tpl and _workloadLauncher.tpl):
// an init container, the orchestrator or sidecar, and the connectors, on
// the nodes JOB_KUBE_NODE_SELECTORS selects ("k=v,k=v") with the
// tolerations of JOB_KUBE_TOLERATIONS ("k=v,k=v;k=v,...").
func airbyteJobPods(o ClusterObject) []ClusterObject {
	data, _ := o.Body["data"].(map[string]any)
	orchestrator, _ := data["CONTAINER_ORCHESTRATOR_IMAGE"].(string)
	if orchestrator == "" {
		return nil
	}
	get := func(k string) string { s, _ := data[k].(string); return s }
	selector := map[string]any{}
	for _, kv := range strings.Split(get("JOB_KUBE_NODE_SELECTORS"), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			selector[k] = v
		}
	}
	var tolerations []any
	for _, t := range strings.Split(get("JOB_KUBE_TOLERATIONS"), ";") {
		tol := map[string]any{}
		for _, kv := range strings.Split(t, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				tol[k] = v
			}
		}
		if len(tol) > 0 {
			tolerations = append(tolerations, tol)
		}
	}
	// Each container's requests come from the launcher's settings: the
	// connectors' from JOB_MAIN_CONTAINER_*, the orchestrator's from
	// REPLICATION_ORCHESTRATOR_*, the sidecar's from SIDECAR_MAIN_CONTAINER_*.
	// The init container is modelled with the orchestrator's (an
	// assumption: the chart does not set the init container's own). An
	// empty setting is no request.
	resources := func(prefix string) map[string]any {
		requests := map[string]any{}
		for _, r := range []string{"CPU", "MEMORY"} {
			if v := get(prefix + "_" + r + "_REQUEST"); v != "" {
				requests[strings.ToLower(r)] = v
			}
		}
		return map[string]any{"requests": requests}
	}
	ctr := func(name, image, prefix string) map[string]any {
		return map[string]any{"name": name, "image": image, "resources": resources(prefix)}
	}
	spec := map[string]any{
		"serviceAccountName": get("JOB_KUBE_SERVICEACCOUNT"),
		"nodeSelector":       selector,
		"tolerations":        tolerations,
		"initContainers":     []any{ctr("init", get("WORKLOAD_INIT_IMAGE"), "REPLICATION_ORCHESTRATOR")},
		"containers": []any{withEnv(ctr("orchestrator", orchestrator, "REPLICATION_ORCHESTRATOR"), data, "INTERNAL_API_HOST", "WORKLOAD_API_HOST"),
			ctr("connector-sidecar", get("CONNECTOR_SIDECAR_IMAGE"), "SIDECAR_MAIN_CONTAINER"),
			ctr("source", ConnectorImages, "JOB_MAIN_CONTAINER"), ctr("destination", ConnectorImages, "JOB_MAIN_CONTAINER")},
	}
	annotations := map[string]any{}
	for _, kv := range strings.Split(get("JOB_KUBE_ANNOTATIONS"), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			annotations[k] = v
		}
	}
	// The launcher labels every job pod airbyte=job-pod (airbyte-platform
	// airbyte-workload-launcher pods/PodLabeler.kt), and gives the init,
	// orchestrator and sidecar containers the server's and the workload
	// API's addresses (EnvVarConfigBeanFactory.kt).
	pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"annotations": annotations, "labels": map[string]any{"airbyte": "job-pod"}}, "spec": spec}
	ns := get("JOB_KUBE_NAMESPACE")
	if ns == "" {
		ns = o.Namespace
	}
	return []ClusterObject{{Owner: o.Owner, APIVersion: "v1", Kind: "Pod", Name: "airbyte-job", Namespace: ns,
		Derived: true, From: fmt.Sprintf("ConfigMap %s/%s JOB_KUBE_*", o.Namespace, o.Name), Body: pod}}
}
