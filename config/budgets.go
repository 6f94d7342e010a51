package config

import "time"

// Budgets bound the work one SCIM list or search request may cost
// (package scimapi): how many resources an unindexed filter or a sortBy
// examines, for how long, and how deep a sorted page may reach. A request
// over a budget gets 400 tooMany (RFC 7644 §3.4.2.2, §3.12).
type Budgets struct {
	ScanRows   int      `yaml:"scan_rows" doc:"most resources one list or search may examine when its filter is not served by an index or it sorts (400 tooMany above)"`
	ScanTime   Duration `yaml:"scan_time" doc:"longest time one list or search may spend examining resources (400 tooMany after)"`
	SortWindow int      `yaml:"sort_window" doc:"largest startIndex+count-1 served with sortBy; the sort keeps only this many keys in memory (400 tooMany above)"`
}

func defaultBudgets() Budgets {
	return Budgets{ScanRows: 100_000, ScanTime: Duration(5 * time.Second), SortWindow: 10_000}
}

func (b Budgets) validate() error {
	checks := []struct {
		key string
		err error
	}{
		{"scim.budgets.scan_rows", checkIntRange(int64(b.ScanRows), 100, 100_000_000)},
		{"scim.budgets.scan_time", checkRange(time.Duration(b.ScanTime), 10*time.Millisecond, 10*time.Minute)},
		{"scim.budgets.sort_window", checkIntRange(int64(b.SortWindow), 100, 10_000_000)},
	}
	for _, ch := range checks {
		if ch.err != nil {
			return &KeyError{Key: ch.key, Err: ch.err}
		}
	}
	return nil
}
