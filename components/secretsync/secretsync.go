// Package secretsync installs the External Secrets Operator and builds
// Kubernetes Secrets from AWS Secrets Manager: the only way credentials
// reach pods. Values never pass through Pulumi or Helm values.
//
// There is no cluster-wide store. Each namespace that needs secrets gets a
// SecretStore of its own (NewStore), which authenticates with an IRSA role
// trusted only by a service account of that namespace and allowed to read
// only the secrets listed for it. An ExternalSecret in one app's namespace
// therefore cannot read another app's database password. The operator itself
// holds no AWS permissions, and runs with ClusterSecretStore,
// ClusterExternalSecret and PushSecret processing (and their CRDs) off.
package secretsync

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/charts"
	"github.com/dataplatform/dataplatform/components/identity"
	"github.com/dataplatform/dataplatform/internal/iampolicy"
	"github.com/dataplatform/dataplatform/internal/structmap"
)

// TypeToken is the Pulumi type of the Operator component.
const TypeToken = "dataplatform:secretsync:Operator"

// StoreTypeToken is the Pulumi type of the Store component.
const StoreTypeToken = "dataplatform:secretsync:Store"

// Namespace and ServiceAccountName are where the operator runs and as whom.
// The operator's account has no IAM role: each store brings its own.
const (
	Namespace          = "external-secrets"
	ServiceAccountName = "external-secrets"
	// StoreName is the name of the SecretStore in each namespace.
	StoreName = "aws-secrets-manager"
	// StoreServiceAccountName is the service account of each namespace's
	// store: the operator requests its token (audience sts.amazonaws.com)
	// to assume the store's role. No pod runs as it.
	StoreServiceAccountName = "secret-store"
	// APIVersion is the External Secrets API the platform uses (v1beta1 is no longer served).
	APIVersion = "external-secrets.io/v1"
)

// OperatorArgs are the inputs of NewOperator. Kubernetes resources use the
// provider given to the component.
type OperatorArgs struct {
	// Config pins the chart and the refresh interval; see stackconfig.SecretSync.
	Config Config
	// ChartDir is the folder of the vendored chart archives, relative to
	// the Pulumi project (default "charts", see package charts).
	ChartDir string
	// Region is the region of the secrets. Required.
	Region string
	// OIDCProviderARN and OIDCIssuer are the cluster's IRSA provider, which
	// the stores' roles trust. Required.
	OIDCProviderARN, OIDCIssuer pulumi.StringInput
	// KMSKeyARN is the key the secrets are encrypted with; the stores'
	// roles may decrypt with it through Secrets Manager only.
	KMSKeyARN pulumi.StringInput
	// NodeSelector and Tolerations place the operator (on the core nodes).
	NodeSelector map[string]string
	Tolerations  []map[string]string
	// WaitFor are resources the release waits for (nodes to run on).
	WaitFor []pulumi.Resource
	// Tags are put on the stores' IAM roles.
	Tags map[string]string
}

// Operator is the installed operator. Create it with NewOperator, then a
// Store per namespace with NewStore.
type Operator struct {
	pulumi.ResourceState

	// Release is the operator's Helm release; stores wait for it (CRDs,
	// webhook).
	Release *helmv3.Release
	// RefreshInterval is how often ExternalSecrets refresh.
	RefreshInterval string

	region                      string
	oidcProviderARN, oidcIssuer pulumi.StringInput
	kmsKeyARN                   pulumi.StringInput
	tags                        map[string]string
}

// NewOperator installs the operator. It creates no store: see NewStore.
func NewOperator(ctx *pulumi.Context, name string, args *OperatorArgs, opts ...pulumi.ResourceOption) (*Operator, error) {
	if args == nil {
		args = &OperatorArgs{}
	}
	cfg := args.Config.WithDefaults()
	problems := cfg.Validate()
	if args.Region == "" {
		problems.Addf("region", "required")
	}
	if args.OIDCProviderARN == nil || args.OIDCIssuer == nil {
		problems.Addf("oidcProviderArn", "required with oidcIssuer: the stores' roles trust the cluster's OIDC provider")
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	o := &Operator{RefreshInterval: cfg.RefreshInterval, region: args.Region, oidcProviderARN: args.OIDCProviderARN,
		oidcIssuer: args.OIDCIssuer, kmsKeyARN: args.KMSKeyARN, tags: args.Tags}
	if err := ctx.RegisterComponentResource(TypeToken, name, o, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(o)
	ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(Namespace)},
	}, parent)
	if err != nil {
		return nil, err
	}
	off := false
	release, err := helmv3.NewRelease(ctx, name, &helmv3.ReleaseArgs{
		Name:      pulumi.String("external-secrets"),
		Chart:     pulumi.String(charts.Path(args.ChartDir, charts.ExternalSecrets, cfg.ChartVersion)),
		Version:   pulumi.String(cfg.ChartVersion),
		Namespace: ns.Metadata.Name().Elem(),
		Atomic:    pulumi.Bool(true),
		Values: structmap.Map(operatorValues{
			InstallCRDs:  true,
			ReplicaCount: cfg.Replicas,
			// The chart's flags say "if set to false you must also set
			// process...: false": both are off, so no cluster-wide store
			// can exist, and nothing pushes secrets to AWS.
			CRDs:                         crdValues{CreateClusterSecretStore: &off, CreateClusterExternalSecret: &off, CreatePushSecret: &off, CreateClusterPushSecret: &off},
			ProcessClusterStore:          &off,
			ProcessClusterExternalSecret: &off,
			ProcessPushSecret:            &off,
			ProcessClusterPushSecret:     &off,
			ServiceAccount:               serviceAccountValues{Create: true, Name: ServiceAccountName},
			Resources:                    small,
			NodeSelector:                 args.NodeSelector,
			Tolerations:                  args.Tolerations,
			Webhook:                      componentValues{Resources: small, NodeSelector: args.NodeSelector, Tolerations: args.Tolerations},
			CertController:               componentValues{Resources: small, NodeSelector: args.NodeSelector, Tolerations: args.Tolerations},
		}),
	}, parent, pulumi.DependsOn(args.WaitFor))
	if err != nil {
		return nil, err
	}
	o.Release = release
	if err := ctx.RegisterResourceOutputs(o, pulumi.Map{}); err != nil {
		return nil, err
	}
	return o, nil
}

// StoreArgs are the inputs of NewStore.
type StoreArgs struct {
	// Operator is the installed operator. Required.
	Operator *Operator
	// Namespace is the store's namespace, which must exist (or be created
	// by a resource in WaitFor). Required.
	Namespace string
	// SecretARNs are the only secrets ExternalSecrets of the namespace may
	// read. Required: the store's role gets no wildcard.
	SecretARNs []pulumi.StringInput
	// WaitFor are resources the store waits for, such as the namespace.
	WaitFor []pulumi.Resource
}

// Store is one namespace's SecretStore and the IRSA role it reads with.
// Create it with NewStore.
type Store struct {
	pulumi.ResourceState

	// Namespace is the store's namespace.
	Namespace string
	// Resource is the SecretStore; ExternalSecrets wait for it.
	Resource *apiextensions.CustomResource
	// Role is the store's IRSA role.
	Role *identity.IrsaRole
	// RefreshInterval is how often its ExternalSecrets refresh.
	RefreshInterval string
}

// NewStore creates a SecretStore in one namespace, a service account there
// for it, and an IRSA role trusted by that account alone and allowed to read
// only args.SecretARNs (and decrypt them through Secrets Manager).
func NewStore(ctx *pulumi.Context, name string, args *StoreArgs, opts ...pulumi.ResourceOption) (*Store, error) {
	if args == nil || args.Operator == nil || args.Namespace == "" || len(args.SecretARNs) == 0 {
		return nil, fmt.Errorf("secret store %s: operator, namespace and secretArns are required (the store's role gets no wildcard)", name)
	}
	op := args.Operator
	s := &Store{Namespace: args.Namespace, RefreshInterval: op.RefreshInterval}
	if err := ctx.RegisterComponentResource(StoreTypeToken, name, s, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(s)
	statements := []iampolicy.Statement{{
		Sid:       "ReadThisNamespacesSecrets",
		Actions:   []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
		Resources: args.SecretARNs,
	}}
	if op.kmsKeyARN != nil {
		statements = append(statements, iampolicy.Statement{
			Sid:        "DecryptThem",
			Actions:    []string{"kms:Decrypt"},
			Resources:  iampolicy.Inputs(op.kmsKeyARN),
			Conditions: []iampolicy.Condition{{Test: "StringEquals", Variable: pulumi.String("kms:ViaService"), Values: iampolicy.Strings(fmt.Sprintf("secretsmanager.%s.amazonaws.com", op.region))}},
		})
	}
	role, err := identity.NewIrsaRole(ctx, name+"-role", &identity.IrsaRoleArgs{
		OIDCProviderARN: op.oidcProviderARN,
		OIDCIssuer:      op.oidcIssuer,
		ServiceAccounts: []identity.ServiceAccount{{Namespace: args.Namespace, Name: StoreServiceAccountName}},
		Policies:        []identity.Policy{{Name: "read", Document: iampolicy.Document{Statements: statements}}},
		Description:     "External Secrets store of namespace " + args.Namespace + ": reads its secrets",
		Tags:            op.tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	s.Role = role
	sa, err := corev1.NewServiceAccount(ctx, name, &corev1.ServiceAccountArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(StoreServiceAccountName),
			Namespace:   pulumi.String(args.Namespace),
			Annotations: pulumi.StringMap{identity.RoleARNAnnotation: role.RoleARN},
		},
		// Only the operator uses it, through a token request.
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, parent, pulumi.DependsOn(args.WaitFor))
	if err != nil {
		return nil, err
	}
	deps := append([]pulumi.Resource{op.Release, sa}, role.Ready...)
	store, err := apiextensions.NewCustomResource(ctx, name, &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(APIVersion),
		Kind:       pulumi.String("SecretStore"),
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(StoreName),
			Namespace:   pulumi.String(args.Namespace),
			Annotations: pulumi.StringMap{"pulumi.com/waitFor": pulumi.String("condition=Ready")},
		},
		OtherFields: kubernetes.UntypedArgs{"spec": structmap.Map(map[string]any{
			"provider": map[string]any{"aws": map[string]any{
				"service": "SecretsManager",
				"region":  op.region,
				// The operator assumes the role annotated on this account
				// with a token it requests for it.
				"auth": map[string]any{"jwt": map[string]any{"serviceAccountRef": map[string]any{"name": StoreServiceAccountName}}},
			}},
		})},
	}, parent, pulumi.DependsOn(deps))
	if err != nil {
		return nil, err
	}
	s.Resource = store
	if err := ctx.RegisterResourceOutputs(s, pulumi.Map{"roleArn": role.RoleARN}); err != nil {
		return nil, err
	}
	return s, nil
}

type operatorValues struct {
	InstallCRDs                  bool                 `json:"installCRDs"`
	ReplicaCount                 int                  `json:"replicaCount"`
	CRDs                         crdValues            `json:"crds"`
	ProcessClusterStore          *bool                `json:"processClusterStore"`
	ProcessClusterExternalSecret *bool                `json:"processClusterExternalSecret"`
	ProcessPushSecret            *bool                `json:"processPushSecret"`
	ProcessClusterPushSecret     *bool                `json:"processClusterPushSecret"`
	ServiceAccount               serviceAccountValues `json:"serviceAccount"`
	Resources                    resources            `json:"resources"`
	NodeSelector                 map[string]string    `json:"nodeSelector,omitempty"`
	Tolerations                  []map[string]string  `json:"tolerations,omitempty"`
	Webhook                      componentValues      `json:"webhook"`
	CertController               componentValues      `json:"certController"`
}

type crdValues struct {
	CreateClusterSecretStore    *bool `json:"createClusterSecretStore"`
	CreateClusterExternalSecret *bool `json:"createClusterExternalSecret"`
	CreatePushSecret            *bool `json:"createPushSecret"`
	CreateClusterPushSecret     *bool `json:"createClusterPushSecret"`
}

type serviceAccountValues struct {
	Create      bool                          `json:"create"`
	Name        string                        `json:"name"`
	Annotations map[string]pulumi.StringInput `json:"annotations,omitempty"`
}

// resources are a container's requests and limits; the chart sets none.
type resources map[string]map[string]string

// small is what each of the operator's three Go processes (controller,
// webhook, cert controller) requests: they hold a few hundred objects.
var small = resources{"requests": {"cpu": "20m", "memory": "96Mi"}, "limits": {"memory": "256Mi"}}

type componentValues struct {
	Resources    resources           `json:"resources"`
	NodeSelector map[string]string   `json:"nodeSelector,omitempty"`
	Tolerations  []map[string]string `json:"tolerations,omitempty"`
}

// Field is one key of a synced Kubernetes Secret, read from a property of a
// JSON secret in Secrets Manager.
type Field struct {
	// Key is the variable name the template refers to ({{ .Key }}).
	Key string
	// SecretARN is the Secrets Manager secret.
	SecretARN pulumi.StringInput
	// Property is the JSON property of the secret's value; empty reads
	// the whole value.
	Property string
}

// ExternalSecretArgs describe a Kubernetes Secret synced from Secrets Manager.
type ExternalSecretArgs struct {
	// Namespace and SecretName name the Kubernetes Secret. Required;
	// Namespace must be the Store's.
	Namespace  pulumi.StringInput
	SecretName string
	// Fields are the values read from Secrets Manager.
	Fields []Field
	// Template maps each key of the Kubernetes Secret to a Go template over
	// the fields, such as "postgresql://{{ .username | urlquery }}:...".
	// Without a template, each field becomes a key of its own.
	Template map[string]pulumi.StringInput
	// Store is the SecretStore of Namespace (see NewStore). Required.
	Store *Store
	// Credentials names the rotating credentials the Secret holds (such as
	// a database login, "airbyte_blue"): the ExternalSecret carries it in
	// CredentialsAnnotation, and so must every pod that reads the Secret,
	// so that the pods roll when the credentials change.
	Credentials string
}

// CredentialsAnnotation carries the name of rotating credentials, on an
// ExternalSecret and on the pods that read its Secret.
const CredentialsAnnotation = "dataplatform.io/credentials"

// NewExternalSecret creates an ExternalSecret. Pulumi waits until the
// operator reports it synced (Ready), so whatever depends on it finds the
// Kubernetes Secret in place.
func NewExternalSecret(ctx *pulumi.Context, name string, args *ExternalSecretArgs, opts ...pulumi.ResourceOption) (*apiextensions.CustomResource, error) {
	data := []map[string]any{}
	for _, f := range args.Fields {
		ref := map[string]any{"key": f.SecretARN}
		if f.Property != "" {
			ref["property"] = f.Property
		}
		data = append(data, map[string]any{"secretKey": f.Key, "remoteRef": ref})
	}
	target := map[string]any{"name": args.SecretName, "creationPolicy": "Owner", "deletionPolicy": "Delete"}
	if len(args.Template) > 0 {
		target["template"] = map[string]any{"engineVersion": "v2", "data": args.Template}
	}
	annotations := pulumi.StringMap{"pulumi.com/waitFor": pulumi.String("condition=Ready")}
	if args.Credentials != "" {
		annotations[CredentialsAnnotation] = pulumi.String(args.Credentials)
	}
	return apiextensions.NewCustomResource(ctx, name, &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(APIVersion),
		Kind:       pulumi.String("ExternalSecret"),
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(args.SecretName),
			Namespace:   args.Namespace,
			Annotations: annotations,
		},
		OtherFields: kubernetes.UntypedArgs{"spec": structmap.Map(map[string]any{
			"refreshInterval": args.Store.RefreshInterval,
			"secretStoreRef":  map[string]any{"name": StoreName, "kind": "SecretStore"},
			"target":          target,
			"data":            data,
		})},
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{args.Store.Resource}))...)
}
