// Package subnets computes the CIDR blocks of a VPC's subnets: per availability
// zone one public, one private, one database and (optionally) one ingress
// subnet, packed into the VPC's
// IPv4 block without overlap. It is pure (no cloud calls), so it can run while
// configuration is validated, before anything is created.
package subnets

import (
	"fmt"
	"net/netip"
	"sort"
)

// Request describes the subnets to lay out.
type Request struct {
	// VpcCidr is the VPC's IPv4 block, such as "10.0.0.0/16".
	VpcCidr netip.Prefix
	// Zones is the number of availability zones; each gets one subnet of every tier.
	Zones int
	// PublicPrefix, PrivatePrefix and DatabasePrefix are the prefix lengths of
	// each tier's subnets (for example 24 for a /24).
	PublicPrefix, PrivatePrefix, DatabasePrefix int
	// IngressPrefix is the prefix length of the ingress tier (internal load
	// balancers), or 0 for none.
	IngressPrefix int
}

// Layout is the result: for each tier, one block per zone, in zone order.
type Layout struct {
	Public, Private, Database, Ingress []netip.Prefix
}

// Plan lays out the subnets of req. Larger blocks are placed first so that
// every block is aligned on its own size and no space is lost to alignment
// between tiers. It returns an error that says how many addresses are needed
// and how many the VPC holds when the subnets do not fit.
func Plan(req Request) (Layout, error) {
	vpc := req.VpcCidr.Masked()
	if !vpc.IsValid() || !vpc.Addr().Is4() {
		return Layout{}, fmt.Errorf("want an IPv4 CIDR block, got %q", req.VpcCidr.String())
	}
	if req.Zones < 1 {
		return Layout{}, fmt.Errorf("want at least 1 availability zone, got %d", req.Zones)
	}
	type block struct {
		tier   int // 0 public, 1 private, 2 database, 3 ingress
		zone   int
		prefix int
	}
	prefixes := []int{req.PublicPrefix, req.PrivatePrefix, req.DatabasePrefix}
	if req.IngressPrefix != 0 {
		prefixes = append(prefixes, req.IngressPrefix)
	}
	var blocks []block
	var need uint64
	for tier, p := range prefixes {
		if p < vpc.Bits() || p > 32 {
			return Layout{}, fmt.Errorf("subnet prefix /%d does not fit in VPC block %s", p, vpc)
		}
		for z := 0; z < req.Zones; z++ {
			blocks = append(blocks, block{tier: tier, zone: z, prefix: p})
			need += size(p)
		}
	}
	have := size(vpc.Bits())
	if need > have {
		ingress := ""
		if req.IngressPrefix != 0 {
			ingress = fmt.Sprintf(" + ingress /%d", req.IngressPrefix)
		}
		return Layout{}, fmt.Errorf("%d availability zones need %d addresses (%d × public /%d + private /%d + database /%d%s), but %s holds %d",
			req.Zones, need, req.Zones, req.PublicPrefix, req.PrivatePrefix, req.DatabasePrefix, ingress, vpc, have)
	}
	// Largest first (smallest prefix length); ties keep tier and zone order.
	sort.SliceStable(blocks, func(i, j int) bool { return blocks[i].prefix < blocks[j].prefix })

	base := uint64(toUint32(vpc.Addr()))
	next := base
	end := base + have
	out := Layout{
		Public:   make([]netip.Prefix, req.Zones),
		Private:  make([]netip.Prefix, req.Zones),
		Database: make([]netip.Prefix, req.Zones),
	}
	if req.IngressPrefix != 0 {
		out.Ingress = make([]netip.Prefix, req.Zones)
	}
	for _, b := range blocks {
		sz := size(b.prefix)
		if rem := (next - base) % sz; rem != 0 {
			next += sz - rem
		}
		if next+sz > end {
			// Only reachable when alignment wastes space; sizes are sorted, so it is not expected.
			return Layout{}, fmt.Errorf("subnets do not fit in %s after alignment", vpc)
		}
		p := netip.PrefixFrom(fromUint32(uint32(next)), b.prefix)
		switch b.tier {
		case 0:
			out.Public[b.zone] = p
		case 1:
			out.Private[b.zone] = p
		case 2:
			out.Database[b.zone] = p
		default:
			out.Ingress[b.zone] = p
		}
		next += sz
	}
	return out, nil
}

// All returns every block of the layout: public, private, database, then ingress.
func (l Layout) All() []netip.Prefix {
	all := append([]netip.Prefix(nil), l.Public...)
	all = append(all, l.Private...)
	all = append(all, l.Database...)
	return append(all, l.Ingress...)
}

func size(prefix int) uint64 { return uint64(1) << (32 - prefix) }

func toUint32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func fromUint32(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
