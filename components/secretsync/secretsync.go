// Package secretsync installs the External Secrets Operator and builds
// Kubernetes Secrets from AWS Secrets Manager: the only way credentials
// reach pods. Values never pass through Pulumi or Helm values; the operator
// reads them with its own IRSA role, which may read only the secrets listed.
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

// Namespace and ServiceAccountName are where the operator runs and as whom;
// its IRSA role trusts only that account.
const (
	Namespace          = "external-secrets"
	ServiceAccountName = "external-secrets"
	// StoreName is the ClusterSecretStore every ExternalSecret of the platform uses.
	StoreName = "aws-secrets-manager"
	// APIVersion is the External Secrets API the platform uses (v1beta1 is no longer served).
	APIVersion = "external-secrets.io/v1"
)

// OperatorArgs are the inputs of NewOperator. Kubernetes resources use the
// provider given to the component.
type OperatorArgs struct {
	// Config pins the chart and the refresh interval; see spec.SecretSync.
	Config Config
	// ChartDir is the folder of the vendored chart archives, relative to
	// the Pulumi project (default "charts", see package charts).
	ChartDir string
	// Region is the region of the secrets. Required.
	Region string
	// OIDCProviderARN and OIDCIssuer are the cluster's IRSA provider. Required.
	OIDCProviderARN, OIDCIssuer pulumi.StringInput
	// SecretARNs are the only secrets the operator may read. Required.
	SecretARNs []pulumi.StringInput
	// KMSKeyARN is the key those secrets are encrypted with.
	KMSKeyARN pulumi.StringInput
	// NodeSelector and Tolerations place the operator (on the core nodes).
	NodeSelector map[string]string
	Tolerations  []map[string]string
	// WaitFor are resources the release waits for (nodes to run on).
	WaitFor []pulumi.Resource
	Tags    map[string]string
}

// Operator is the installed operator and its store. Create it with NewOperator.
type Operator struct {
	pulumi.ResourceState

	// Store is the ClusterSecretStore; ExternalSecrets must wait for it.
	Store *apiextensions.CustomResource
	// RefreshInterval is how often ExternalSecrets refresh.
	RefreshInterval string
	// Role is the operator's IRSA role.
	Role *identity.IrsaRole
}

// NewOperator installs the operator with a ClusterSecretStore for AWS
// Secrets Manager that authenticates through the operator's IRSA role.
func NewOperator(ctx *pulumi.Context, name string, args *OperatorArgs, opts ...pulumi.ResourceOption) (*Operator, error) {
	if args == nil {
		args = &OperatorArgs{}
	}
	cfg := args.Config.WithDefaults()
	problems := cfg.Validate()
	if args.Region == "" {
		problems.Addf("region", "required")
	}
	if len(args.SecretARNs) == 0 {
		problems.Addf("secretArns", "want the secrets the operator may read; it gets no wildcard")
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	o := &Operator{RefreshInterval: cfg.RefreshInterval}
	if err := ctx.RegisterComponentResource(TypeToken, name, o, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(o)

	statements := []iampolicy.Statement{{
		Sid:       "ReadThePlatformsSecrets",
		Actions:   []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"},
		Resources: args.SecretARNs,
	}}
	if args.KMSKeyARN != nil {
		statements = append(statements, iampolicy.Statement{
			Sid:        "DecryptThem",
			Actions:    []string{"kms:Decrypt"},
			Resources:  iampolicy.Inputs(args.KMSKeyARN),
			Conditions: []iampolicy.Condition{{Test: "StringEquals", Variable: pulumi.String("kms:ViaService"), Values: iampolicy.Strings(fmt.Sprintf("secretsmanager.%s.amazonaws.com", args.Region))}},
		})
	}
	role, err := identity.NewIrsaRole(ctx, name+"-role", &identity.IrsaRoleArgs{
		OIDCProviderARN: args.OIDCProviderARN,
		OIDCIssuer:      args.OIDCIssuer,
		ServiceAccounts: []identity.ServiceAccount{{Namespace: Namespace, Name: ServiceAccountName}},
		Policies:        []identity.Policy{{Name: "read", Document: iampolicy.Document{Statements: statements}}},
		Description:     "External Secrets Operator: reads the platform's secrets",
		Tags:            args.Tags,
	}, parent)
	if err != nil {
		return nil, err
	}
	o.Role = role
	ns, err := corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(Namespace)},
	}, parent)
	if err != nil {
		return nil, err
	}
	release, err := helmv3.NewRelease(ctx, name, &helmv3.ReleaseArgs{
		Name:      pulumi.String("external-secrets"),
		Chart:     pulumi.String(charts.Path(args.ChartDir, charts.ExternalSecrets, cfg.ChartVersion)),
		Version:   pulumi.String(cfg.ChartVersion),
		Namespace: ns.Metadata.Name().Elem(),
		Atomic:    pulumi.Bool(true),
		Values: structmap.Map(operatorValues{
			InstallCRDs:  true,
			ReplicaCount: cfg.Replicas,
			ServiceAccount: serviceAccountValues{
				Create:      true,
				Name:        ServiceAccountName,
				Annotations: map[string]pulumi.StringInput{identity.RoleARNAnnotation: role.RoleARN},
			},
			NodeSelector:   args.NodeSelector,
			Tolerations:    args.Tolerations,
			Webhook:        componentValues{NodeSelector: args.NodeSelector, Tolerations: args.Tolerations},
			CertController: componentValues{NodeSelector: args.NodeSelector, Tolerations: args.Tolerations},
		}),
	}, parent, pulumi.DependsOn(args.WaitFor))
	if err != nil {
		return nil, err
	}
	store, err := apiextensions.NewCustomResource(ctx, name+"-store", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(APIVersion),
		Kind:       pulumi.String("ClusterSecretStore"),
		Metadata: &metav1.ObjectMetaArgs{
			Name:        pulumi.String(StoreName),
			Annotations: pulumi.StringMap{"pulumi.com/waitFor": pulumi.String("condition=Ready")},
		},
		OtherFields: kubernetes.UntypedArgs{"spec": structmap.Map(map[string]any{
			// No auth block: the operator's own IRSA credentials are used.
			"provider": map[string]any{"aws": map[string]any{"service": "SecretsManager", "region": args.Region}},
		})},
	}, parent, pulumi.DependsOn([]pulumi.Resource{release}))
	if err != nil {
		return nil, err
	}
	o.Store = store
	if err := ctx.RegisterResourceOutputs(o, pulumi.Map{"roleArn": role.RoleARN}); err != nil {
		return nil, err
	}
	return o, nil
}

type operatorValues struct {
	InstallCRDs    bool                 `json:"installCRDs"`
	ReplicaCount   int                  `json:"replicaCount"`
	ServiceAccount serviceAccountValues `json:"serviceAccount"`
	NodeSelector   map[string]string    `json:"nodeSelector,omitempty"`
	Tolerations    []map[string]string  `json:"tolerations,omitempty"`
	Webhook        componentValues      `json:"webhook"`
	CertController componentValues      `json:"certController"`
}

type serviceAccountValues struct {
	Create      bool                          `json:"create"`
	Name        string                        `json:"name"`
	Annotations map[string]pulumi.StringInput `json:"annotations,omitempty"`
}

type componentValues struct {
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
	// Property is the JSON property of the secret's value.
	Property string
}

// ExternalSecretArgs describe a Kubernetes Secret synced from Secrets Manager.
type ExternalSecretArgs struct {
	// Namespace and SecretName name the Kubernetes Secret. Required.
	Namespace  pulumi.StringInput
	SecretName string
	// Fields are the values read from Secrets Manager.
	Fields []Field
	// Template maps each key of the Kubernetes Secret to a Go template over
	// the fields, such as "postgresql://{{ .username | urlquery }}:...".
	// Without a template, each field becomes a key of its own.
	Template map[string]pulumi.StringInput
	// Operator is the installed operator (its store and refresh interval). Required.
	Operator *Operator
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
		data = append(data, map[string]any{
			"secretKey": f.Key,
			"remoteRef": map[string]any{"key": f.SecretARN, "property": f.Property},
		})
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
			"refreshInterval": args.Operator.RefreshInterval,
			"secretStoreRef":  map[string]any{"name": StoreName, "kind": "ClusterSecretStore"},
			"target":          target,
			"data":            data,
		})},
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{args.Operator.Store}))...)
}
