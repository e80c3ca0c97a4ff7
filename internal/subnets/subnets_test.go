package subnets

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func req(cidr string, zones, pub, priv, db int) Request {
	return Request{VpcCidr: netip.MustParsePrefix(cidr), Zones: zones, PublicPrefix: pub, PrivatePrefix: priv, DatabasePrefix: db}
}

func TestPlanLaysOutDisjointBlocksInsideTheVpc(t *testing.T) {
	cases := []Request{
		req("10.0.0.0/16", 2, 24, 19, 24),
		req("10.0.0.0/16", 3, 24, 19, 24),
		req("10.20.0.0/16", 6, 24, 19, 24),
		req("172.16.0.0/20", 3, 26, 22, 27),
		req("192.168.0.0/24", 2, 28, 27, 28),
	}
	for _, c := range cases {
		t.Run(c.VpcCidr.String(), func(t *testing.T) {
			l, err := Plan(c)
			require.NoError(t, err)
			require.Len(t, l.Public, c.Zones)
			require.Len(t, l.Private, c.Zones)
			require.Len(t, l.Database, c.Zones)
			all := l.All()
			for i, a := range all {
				assert.True(t, c.VpcCidr.Contains(a.Addr()), "%s starts outside %s", a, c.VpcCidr)
				last := lastAddr(a)
				assert.True(t, c.VpcCidr.Contains(last), "%s ends outside %s", a, c.VpcCidr)
				assert.Equal(t, a, a.Masked(), "%s is not aligned on its size", a)
				for _, b := range all[i+1:] {
					assert.False(t, a.Overlaps(b), "%s overlaps %s", a, b)
				}
			}
			for _, p := range l.Private {
				assert.Equal(t, c.PrivatePrefix, p.Bits())
			}
		})
	}
}

func TestPlanIsStableForTheDefaultLayout(t *testing.T) {
	// The addresses of existing subnets must not move when nothing changes;
	// this pins the layout that the dev stack uses.
	l, err := Plan(req("10.0.0.0/16", 2, 24, 19, 24))
	require.NoError(t, err)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/19"), netip.MustParsePrefix("10.0.32.0/19")}, l.Private)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.64.0/24"), netip.MustParsePrefix("10.0.65.0/24")}, l.Public)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.66.0/24"), netip.MustParsePrefix("10.0.67.0/24")}, l.Database)
}

func TestPlanRejectsWhatDoesNotFit(t *testing.T) {
	cases := map[string]struct {
		r    Request
		want string
	}{
		"too many zones":         {req("10.0.0.0/16", 9, 24, 19, 24), "9 availability zones need"},
		"vpc too small":          {req("10.0.0.0/24", 3, 26, 26, 26), "10.0.0.0/24 holds 256"},
		"subnet larger than vpc": {req("10.0.0.0/20", 1, 24, 19, 24), "/19 does not fit"},
		"no zones":               {req("10.0.0.0/16", 0, 24, 19, 24), "at least 1 availability zone"},
		"ipv6":                   {Request{VpcCidr: netip.MustParsePrefix("fd00::/56"), Zones: 1, PublicPrefix: 64, PrivatePrefix: 64, DatabasePrefix: 64}, "IPv4"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Plan(c.r)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	v := toUint32(p.Masked().Addr()) + uint32(size(p.Bits())-1)
	return fromUint32(v)
}
