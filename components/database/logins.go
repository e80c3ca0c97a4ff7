package database

import (
	"encoding/base64"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/dataplatform/dataplatform/internal/tags"
)

// LoginsTypeToken is the Pulumi type of the Logins component.
const LoginsTypeToken = "dataplatform:database:Logins"

// Colors are the two logins an app alternates between.
var Colors = [2]string{"blue", "green"}

// LoginsArgs are the inputs of NewLogins.
type LoginsArgs struct {
	// Database is the app's instance. Required.
	Database *Postgres
	// App names the roles: "<app>_owner" owns the database and what the
	// app creates in it; "<app>_blue" and "<app>_green" log in as it.
	// Lowercase letters, digits and underscores. Required.
	App string
	// DatabaseName is the app's database in the instance. Default the
	// instance's own (PostgresArgs.DatabaseName); required when the
	// instance has none (one instance shared by several apps). The login
	// job creates it when it does not exist.
	DatabaseName string
	// SecretPrefix starts the names of the logins' secrets, such as
	// "dataplatform-dev/airbyte". Required.
	SecretPrefix string
	// Generation selects the active login and its password: generation 1
	// uses blue, 2 green with a new password, 3 blue with a new password,
	// and so on. Raising it by one rotates the app's credentials without an
	// outage: the previous login stays valid until the generation after.
	// Default 1.
	Generation int
	// KMSKeyARN encrypts the secrets. Required.
	KMSKeyARN pulumi.StringInput
	// RecoveryWindowDays keeps a deleted secret recoverable (0: delete at once).
	RecoveryWindowDays int
	Tags               map[string]string
}

// Logins are an app's own database logins, apart from the RDS master user:
// two login roles (blue and green) that act as one owner role, each with
// its password (and the password's SCRAM verifier, "scram") in a Secrets
// Manager secret. RDS rotating the master
// password does not touch them; the app rotates its own by Generation.
// The roles are made in the database by NewLoginJob. Create Logins with
// NewLogins.
type Logins struct {
	pulumi.ResourceState

	// App is the app's name; Owner the role that owns its objects.
	App, Owner string
	// DatabaseName is the app's database, which the app connects to.
	DatabaseName string
	// Active is the login in use (such as "airbyte_blue"), Standby the other.
	Active, Standby string
	// Generation is the rotation generation.
	Generation int
	// ActiveSecretARN is the active login's secret: JSON with username and
	// password. Apps read their credentials from it.
	ActiveSecretARN pulumi.StringOutput `pulumi:"activeSecretArn"`
	// SecretARNs are both logins' secrets, by color.
	SecretARNs map[string]pulumi.StringOutput
	// Database is the instance the logins are for.
	Database *Postgres
}

// LoginName is the role of an app's login of a color.
func LoginName(app, color string) string { return app + "_" + color }

// passwordGeneration is the generation in which color last got a new
// password: blue at the odd generations, green at the even ones (and
// generation 0, before green is first used).
func passwordGeneration(generation int, color string) int {
	if color == Colors[0] {
		return generation - (generation+1)%2
	}
	return generation - generation%2
}

// NewLogins creates the two logins' passwords and secrets.
func NewLogins(ctx *pulumi.Context, name string, args *LoginsArgs, opts ...pulumi.ResourceOption) (*Logins, error) {
	if args == nil || args.Database == nil || args.App == "" || args.SecretPrefix == "" || args.KMSKeyARN == nil {
		return nil, fmt.Errorf("logins %s: database, app, secretPrefix and kmsKeyArn are required", name)
	}
	dbName := args.DatabaseName
	if dbName == "" {
		dbName = args.Database.DatabaseName
	}
	if !pgName.MatchString(dbName) {
		return nil, fmt.Errorf("logins %s: databaseName: want a PostgreSQL name (lowercase letters, digits, underscores), got %q (the instance has no database of its own: name the app's)", name, dbName)
	}
	gen := args.Generation
	if gen == 0 {
		gen = 1
	}
	active, standby := Colors[0], Colors[1]
	if gen%2 == 0 {
		active, standby = standby, active
	}
	l := &Logins{App: args.App, Owner: args.App + "_owner", DatabaseName: dbName, Active: LoginName(args.App, active), Standby: LoginName(args.App, standby),
		Generation: gen, SecretARNs: map[string]pulumi.StringOutput{}, Database: args.Database}
	if err := ctx.RegisterComponentResource(LoginsTypeToken, name, l, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(l)
	for _, color := range Colors {
		pw, err := random.NewRandomPassword(ctx, name+"-"+color, &random.RandomPasswordArgs{
			Length: pulumi.Int(40),
			// PostgreSQL and PgBouncer's users file take any character;
			// URLs and templates are simpler without punctuation.
			Special: pulumi.Bool(false),
			Keepers: pulumi.StringMap{"generation": pulumi.String(fmt.Sprint(passwordGeneration(gen, color)))},
		}, parent)
		if err != nil {
			return nil, err
		}
		// The salt of the password's SCRAM verifier, renewed with it.
		salt, err := random.NewRandomId(ctx, name+"-"+color+"-salt", &random.RandomIdArgs{
			ByteLength: pulumi.Int(16),
			Keepers:    pulumi.StringMap{"generation": pulumi.String(fmt.Sprint(passwordGeneration(gen, color)))},
		}, parent)
		if err != nil {
			return nil, err
		}
		verifier := pulumi.All(pw.Result, salt.B64Std).ApplyT(func(v []any) (string, error) {
			raw, err := base64.StdEncoding.DecodeString(v[1].(string))
			if err != nil {
				return "", err
			}
			return ScramVerifier(v[0].(string), raw)
		}).(pulumi.StringOutput)
		login := LoginName(args.App, color)
		secret, err := secretsmanager.NewSecret(ctx, name+"-"+color, &secretsmanager.SecretArgs{
			// A prefix: a rebuilt stack does not collide with a secret kept
			// for its recovery window.
			NamePrefix:           pulumi.Sprintf("%s/db-login-%s-", args.SecretPrefix, color),
			Description:          pulumi.Sprintf("Database login %s of %s (the app's own, not the RDS master user)", login, args.App),
			KmsKeyId:             args.KMSKeyARN,
			RecoveryWindowInDays: pulumi.Int(args.RecoveryWindowDays),
			Tags:                 tags.Named(args.Tags, login),
		}, parent)
		if err != nil {
			return nil, err
		}
		if _, err := secretsmanager.NewSecretVersion(ctx, name+"-"+color, &secretsmanager.SecretVersionArgs{
			SecretId: secret.ID(),
			SecretString: pulumi.ToSecret(pulumi.JSONMarshal(pulumi.Map{
				"engine":   pulumi.String("postgres"),
				"username": pulumi.String(login),
				"password": pw.Result,
				// What the login job sets: PostgreSQL never sees the password.
				"scram":  verifier,
				"host":   args.Database.Address,
				"port":   pulumi.Int(Port),
				"dbname": pulumi.String(dbName),
			})).(pulumi.StringOutput),
		}, parent); err != nil {
			return nil, err
		}
		l.SecretARNs[color] = secret.Arn
	}
	l.ActiveSecretARN = l.SecretARNs[active]
	if err := ctx.RegisterResourceOutputs(l, pulumi.Map{"activeSecretArn": l.ActiveSecretARN}); err != nil {
		return nil, err
	}
	return l, nil
}
