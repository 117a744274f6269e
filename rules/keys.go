package rules

// keyCounts counts distinct string keys. Most sources try one name and
// most users fail from one source, so the first few keys live in a slice
// (one small allocation) and only more of them in a map.
type keyCounts struct {
	few  []keyCount
	many map[string]int
}

type keyCount struct {
	k string
	n int
}

// fewKeys is the most keys kept in the slice.
const fewKeys = 8

// len returns the number of distinct keys.
func (c *keyCounts) len() int {
	if c.many != nil {
		return len(c.many)
	}
	return len(c.few)
}

// has reports whether k was counted.
func (c *keyCounts) has(k string) bool {
	if c.many != nil {
		_, ok := c.many[k]
		return ok
	}
	for _, x := range c.few {
		if x.k == k {
			return true
		}
	}
	return false
}

// add counts k once more, unless k is new and limit keys are counted.
func (c *keyCounts) add(k string, limit int) {
	if c.many != nil {
		if _, ok := c.many[k]; ok || len(c.many) < limit {
			c.many[k]++
		}
		return
	}
	for i := range c.few {
		if c.few[i].k == k {
			c.few[i].n++
			return
		}
	}
	if len(c.few) >= limit {
		return
	}
	if len(c.few) < fewKeys {
		c.few = append(c.few, keyCount{k, 1})
		return
	}
	c.many = make(map[string]int, 2*fewKeys)
	for _, x := range c.few {
		c.many[x.k] = x.n
	}
	c.few = nil
	c.many[k] = 1
}

// remove counts k once less, forgetting it at 0.
func (c *keyCounts) remove(k string) {
	if c.many != nil {
		if n, ok := c.many[k]; ok {
			if n <= 1 {
				delete(c.many, k)
			} else {
				c.many[k] = n - 1
			}
		}
		return
	}
	for i := range c.few {
		if c.few[i].k == k {
			if c.few[i].n--; c.few[i].n <= 0 {
				c.few = append(c.few[:i], c.few[i+1:]...)
				if len(c.few) == 0 {
					c.few = nil
				}
			}
			return
		}
	}
}

// keys returns the distinct keys, in no particular order.
func (c *keyCounts) keys() []string {
	out := make([]string, 0, c.len())
	if c.many != nil {
		for k := range c.many {
			out = append(out, k)
		}
		return out
	}
	for _, x := range c.few {
		out = append(out, x.k)
	}
	return out
}
