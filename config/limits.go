package config

// SCIMLimits bounds the work one SCIM request may cause. Each limit is
// checked before the work it bounds (filters and PATCH paths before they
// are parsed) and is advertised in /ServiceProviderConfig: the bulk limits
// as RFC 7643 §5 bulk.maxOperations and bulk.maxPayloadSize, the others in
// the scimgate limits extension.
type SCIMLimits struct {
	FilterMaxLength     int   `yaml:"filter_max_length" doc:"longest filter in bytes (query or .search body); longer gives 400 invalidFilter"`
	FilterMaxDepth      int   `yaml:"filter_max_depth" doc:"deepest nesting of ( and [ in a filter or PATCH path; deeper gives 400 invalidFilter"`
	FilterMaxTerms      int   `yaml:"filter_max_terms" doc:"most comparisons plus logical operators (and, or, not) in a filter or PATCH path; more gives 400 invalidFilter"`
	PatchMaxOperations  int   `yaml:"patch_max_operations" doc:"most operations in one PATCH request; more gives 400 invalidValue"`
	PatchMaxPathLength  int   `yaml:"patch_max_path_length" doc:"longest PATCH path in bytes; longer gives 400 invalidPath"`
	AttributesMaxCount  int   `yaml:"attributes_max_count" doc:"most entries in attributes or excludedAttributes; more gives 400 invalidValue"`
	AttributeMaxLength  int   `yaml:"attribute_max_length" doc:"longest entry of attributes or excludedAttributes, and longest sortBy, in bytes; longer gives 400 invalidValue"`
	BulkMaxOperations   int   `yaml:"bulk_max_operations" doc:"most operations in one /Bulk request (bulk.maxOperations); more gives 413"`
	BulkMaxPayloadBytes int64 `yaml:"bulk_max_payload_bytes" doc:"largest /Bulk request body in bytes (bulk.maxPayloadSize); larger gives 413"`
}

func defaultSCIMLimits() SCIMLimits {
	return SCIMLimits{
		FilterMaxLength:     8 << 10,
		FilterMaxDepth:      32,
		FilterMaxTerms:      200,
		PatchMaxOperations:  1000,
		PatchMaxPathLength:  1024,
		AttributesMaxCount:  100,
		AttributeMaxLength:  256,
		BulkMaxOperations:   5000,
		BulkMaxPayloadBytes: 8 << 20,
	}
}

// validate checks the limits. The upper bounds keep a raised limit safe:
// the filter parser recurses per nesting level and its time grows faster
// than linearly with the number of terms.
func (l SCIMLimits) validate() error {
	checks := []struct {
		key string
		err error
	}{
		{"scim.limits.filter_max_length", checkIntRange(int64(l.FilterMaxLength), 256, 1<<20)},
		{"scim.limits.filter_max_depth", checkIntRange(int64(l.FilterMaxDepth), 1, 256)},
		{"scim.limits.filter_max_terms", checkIntRange(int64(l.FilterMaxTerms), 1, 2000)},
		{"scim.limits.patch_max_operations", checkIntRange(int64(l.PatchMaxOperations), 1, 10000)},
		{"scim.limits.patch_max_path_length", checkIntRange(int64(l.PatchMaxPathLength), 64, 64<<10)},
		{"scim.limits.attributes_max_count", checkIntRange(int64(l.AttributesMaxCount), 1, 10000)},
		{"scim.limits.attribute_max_length", checkIntRange(int64(l.AttributeMaxLength), 64, 4096)},
		{"scim.limits.bulk_max_operations", checkIntRange(int64(l.BulkMaxOperations), 1, 100000)},
		{"scim.limits.bulk_max_payload_bytes", checkIntRange(l.BulkMaxPayloadBytes, 1024, 1<<30)},
	}
	for _, ch := range checks {
		if ch.err != nil {
			return &KeyError{Key: ch.key, Err: ch.err}
		}
	}
	return nil
}
