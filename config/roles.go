package config

import "github.com/scimgate/scimgate/roles"

// Roles configures the IdP group -> application role mapping.
type Roles struct {
	Mapping    string `yaml:"mapping" doc:"group -> role mapping: \"Engineering-Admins=ADMIN,PMs=PROJECTADMIN\" (group by displayName or externalId); empty disables role mapping"`
	Precedence string `yaml:"precedence" doc:"roles from highest to lowest, e.g. \"ADMIN,PROJECTADMIN,USER\"; a user in several mapped groups gets the highest"`
	Default    string `yaml:"default" doc:"role of a user no group or roles attribute maps"`
	Prefer     string `yaml:"prefer" doc:"which source wins when both yield a role: groups or attribute (the user's SCIM roles attribute)"`
}

// Mapper builds the role mapper the settings describe.
func (r Roles) Mapper() (*roles.Mapper, error) {
	return roles.New(roles.Config{Mapping: r.Mapping, Precedence: r.Precedence, Default: r.Default, Prefer: r.Prefer})
}

// validate checks each part on its own so the error names the right key.
func (r Roles) validate() error {
	parts := []struct {
		key string
		cfg roles.Config
	}{
		{"roles.prefer", roles.Config{Prefer: r.Prefer}},
		{"roles.precedence", roles.Config{Precedence: r.Precedence}},
		{"roles.mapping", roles.Config{Mapping: r.Mapping}},
	}
	for _, p := range parts {
		if _, err := roles.New(p.cfg); err != nil {
			return &KeyError{Key: p.key, Err: err}
		}
	}
	return nil
}
