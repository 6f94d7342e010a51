package roles

import "testing"

func mustNew(t *testing.T, c Config) *Mapper {
	t.Helper()
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEffective(t *testing.T) {
	base := Config{Mapping: "Engineering-Admins=ADMIN, PMs=PROJECTADMIN, ext-devs=USER", Precedence: "ADMIN,PROJECTADMIN,USER", Default: "USER"}
	m := mustNew(t, base)
	attr := func(vals ...any) any { return vals }
	el := func(v string, primary bool) any { return map[string]any{"value": v, "primary": primary} }
	cases := []struct {
		name   string
		m      *Mapper
		groups []Group
		roles  any
		want   string
	}{
		{"no groups: default", m, nil, nil, "USER"},
		{"one mapped group", m, []Group{{DisplayName: "pms"}}, nil, "PROJECTADMIN"},
		{"highest of several", m, []Group{{DisplayName: "PMs"}, {DisplayName: "Engineering-Admins"}, {DisplayName: "Other"}}, nil, "ADMIN"},
		{"by externalId", m, []Group{{DisplayName: "Developers", ExternalID: "EXT-devs"}}, nil, "USER"},
		{"unmapped group: default", m, []Group{{DisplayName: "Sales"}}, nil, "USER"},
		{"attribute primary wins over first", m, nil, attr(el("viewer", false), el("editor", true)), "editor"},
		{"attribute first when no primary", m, nil, attr(el("viewer", false), el("editor", false)), "viewer"},
		{"groups preferred by default", m, []Group{{DisplayName: "PMs"}}, attr(el("viewer", true)), "PROJECTADMIN"},
		{"attribute preferred", mustNew(t, Config{Mapping: base.Mapping, Precedence: base.Precedence, Prefer: PreferAttribute}), []Group{{DisplayName: "PMs"}}, attr(el("viewer", true)), "viewer"},
		{"no default configured", mustNew(t, Config{Mapping: "A=X"}), nil, nil, ""},
	}
	for _, tc := range cases {
		if got := tc.m.Effective(tc.groups, tc.roles); got != tc.want {
			t.Errorf("%s: got %q want %q", tc.name, got, tc.want)
		}
	}
}

func TestUnlistedRolesRankBelowListed(t *testing.T) {
	m := mustNew(t, Config{Mapping: "a=ZED,b=ADMIN,c=ALPHA", Precedence: "ADMIN"})
	if got := m.Effective([]Group{{DisplayName: "a"}, {DisplayName: "c"}}, nil); got != "ALPHA" {
		t.Fatalf("unlisted tie-break: %q", got)
	}
	if got := m.Effective([]Group{{DisplayName: "a"}, {DisplayName: "b"}}, nil); got != "ADMIN" {
		t.Fatalf("listed beats unlisted: %q", got)
	}
	if r := m.Roles(); r[0] != "ADMIN" {
		t.Fatalf("roles %v", r)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Mapping: "noequals"},
		{Mapping: "=ADMIN"},
		{Mapping: "g=A,G=B"},
		{Precedence: "A,A"},
		{Prefer: "both"},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if (&Mapper{}).Enabled() || (*Mapper)(nil).Enabled() {
		t.Fatal("empty mapper enabled")
	}
}
