package match

import "sort"

// hit is one dictionary term found at words[first:last].
type hit struct {
	term        int
	first, last int
}

// Words after a sentence-initial ambiguous term that show it is the English
// word ("Go to…", "React quickly…", "Spring 2020").
var verbFollowers = toSet(`to beyond ahead above the a an further live through out back for get on
into over forth big deep far fast from green here there up down away faster global public where
with see check find make now along all against by quickly promptly swiftly calmly appropriately
accordingly immediately our your their this that these those it`)

// Words before an ambiguous term that show it is a verb ("ready to Go").
var modalBefore = toSet(`to let's lets will would can could must should shall might may ready`)

// Neighbours that make a single-letter language (C, R) credible.
var techNext = toSet(`programming language languages developer developers engineer engineers code coding
development programmer programmers lang scripts scripting stack libraries library compiler`)
var techPrev = toSet(`in with using of`)

var listWords = toSet(`and or &`)

// scanTerms finds dictionary terms: longest multi-word aliases first, then
// the case-sensitive ambiguous words, which may need neighbours to decide.
func (d *document) scanTerms() []hit {
	n := len(d.words)
	covered := make([]bool, n)
	var hits []hit
	for i := 0; i < n; {
		w := d.words[i]
		matched := false
		for _, a := range byFirst[w.key] {
			k := len(a.keys)
			if i+k > n {
				continue
			}
			ok := true
			for j := 1; j < k; j++ {
				if d.words[i+j].key != a.keys[j] || d.words[i+j].sent != w.sent {
					ok = false
					break
				}
			}
			if ok {
				hits = append(hits, hit{a.term, i, i + k})
				for j := i; j < i+k; j++ {
					covered[j] = true
				}
				i += k
				matched = true
				break
			}
		}
		if !matched {
			i++
		}
	}
	// Case-sensitive words: repeat while accepting one can make a neighbour a
	// list context for another ("C, Go and R").
	for round := 0; round < 4; round++ {
		changed := false
		for i := 0; i < n; i++ {
			if covered[i] {
				continue
			}
			for _, a := range csAliases[d.words[i].lower] {
				if d.csAccept(i, a, covered) {
					hits = append(hits, hit{a.term, i, i + 1})
					covered[i] = true
					changed = true
					break
				}
			}
		}
		if !changed {
			break
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].first < hits[j].first })
	return hits
}

func (d *document) csAccept(i int, a alias, covered []bool) bool {
	w := d.words[i]
	if w.surface != a.exact {
		// "python, go, rust": a list of skills settles the case.
		return !a.strict && d.listNeighbour(i, covered)
	}
	if a.strict {
		return d.listNeighbour(i, covered) || d.techNeighbour(i)
	}
	if next, ok := d.neighbour(i, 1); ok {
		if isYear(next.lower) || (w.sentStart && verbFollowers[next.lower]) {
			return false
		}
	}
	if prev, ok := d.neighbour(i, -1); ok && modalBefore[prev.lower] {
		return false
	}
	return true
}

func (d *document) neighbour(i, delta int) (word, bool) {
	j := i + delta
	if j < 0 || j >= len(d.words) || d.words[j].sent != d.words[i].sent {
		return word{}, false
	}
	return d.words[j], true
}

func (d *document) listNeighbour(i int, covered []bool) bool {
	same := func(j int) bool { return j >= 0 && j < len(d.words) && d.words[j].sent == d.words[i].sent }
	if p := i - 1; same(p) {
		if d.words[i].listBefore && covered[p] {
			return true
		}
		if listWords[d.words[p].lower] && same(p-1) && covered[p-1] {
			return true
		}
	}
	if nx := i + 1; same(nx) {
		if d.words[nx].listBefore && covered[nx] {
			return true
		}
		if listWords[d.words[nx].lower] && same(nx+1) && covered[nx+1] {
			return true
		}
	}
	return false
}

func (d *document) techNeighbour(i int) bool {
	if next, ok := d.neighbour(i, 1); ok && techNext[next.lower] {
		return true
	}
	if prev, ok := d.neighbour(i, -1); ok && techPrev[prev.lower] {
		return true
	}
	return false
}

func isYear(s string) bool {
	return len(s) == 4 && (s[:2] == "19" || s[:2] == "20") && s[2] >= '0' && s[2] <= '9' && s[3] >= '0' && s[3] <= '9'
}

// termSet is what a document has, directly or by implication.
type termSet struct {
	direct  map[int]int // term → index of its first hit
	implied map[int]int // term → index of the first hit of a term implying it
	hits    []hit
}

func (d *document) termSet() termSet {
	ts := termSet{direct: map[int]int{}, implied: map[int]int{}, hits: d.scanTerms()}
	for hi, h := range ts.hits {
		if _, ok := ts.direct[h.term]; !ok {
			ts.direct[h.term] = hi
		}
	}
	for hi, h := range ts.hits {
		for _, t := range terms[h.term].implies {
			if _, ok := ts.direct[t]; ok {
				continue
			}
			if _, ok := ts.implied[t]; !ok {
				ts.implied[t] = hi
			}
		}
	}
	return ts
}

// has reports whether the document has term t and, if so, how it was written.
func (ts termSet) has(d *document, t int) (string, bool) {
	if hi, ok := ts.direct[t]; ok {
		h := ts.hits[hi]
		return d.span(h.first, h.last), true
	}
	if hi, ok := ts.implied[t]; ok {
		h := ts.hits[hi]
		return d.span(h.first, h.last), true
	}
	return "", false
}
