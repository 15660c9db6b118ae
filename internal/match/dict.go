package match

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed dictionary.txt
var dictionaryText string

type term struct {
	name     string
	category string
	implies  []int
}

type alias struct {
	keys   []string
	term   int
	exact  string // non-empty: a single word that only counts when written exactly so
	strict bool   // exact, and only next to other skills or "programming"-like words
}

var (
	terms       []term
	termByName  map[string]int     // lower-case canonical name → index
	wholeTokens map[string]bool    // punctuated tokens the tokenizer must not split
	byFirst     map[string][]alias // first key → aliases, longest first
	csAliases   map[string][]alias // lower-case word → case-sensitive aliases
	vocab       map[string]bool    // every key of every alias
)

// Tokens that are not terms but must stay whole so their parts are not read
// as terms ("C-level" is not the C language, "go-to" is not Go).
const extraWholeTokens = "c-level c-suite go-to go-getter go-live r&d"

func init() {
	if err := loadDictionary(dictionaryText); err != nil {
		panic("match: " + err.Error())
	}
}

func loadDictionary(src string) error {
	type line struct {
		no              int
		cat, name, rest string
	}
	var lines []line
	var implications [][2]string
	for no, l := range strings.Split(src, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		parts := strings.Split(l, "|")
		if len(parts) != 3 {
			return fmt.Errorf("dictionary line %d: want 3 fields: %q", no+1, l)
		}
		switch parts[0] {
		case "implies":
			implications = append(implications, [2]string{parts[1], parts[2]})
		case "skill", "tool", "soft", "other":
			lines = append(lines, line{no + 1, parts[0], strings.TrimSpace(parts[1]), parts[2]})
		default:
			return fmt.Errorf("dictionary line %d: unknown category %q", no+1, parts[0])
		}
	}

	terms = nil
	termByName = map[string]int{}
	wholeTokens = toSet(extraWholeTokens)
	byFirst = map[string][]alias{}
	csAliases = map[string][]alias{}
	vocab = map[string]bool{}

	type rawAlias struct {
		text string
		term int
	}
	var raws []rawAlias
	for _, ln := range lines {
		idx := len(terms)
		if _, dup := termByName[strings.ToLower(ln.name)]; dup {
			return fmt.Errorf("dictionary line %d: duplicate term %q", ln.no, ln.name)
		}
		terms = append(terms, term{name: ln.name, category: ln.cat})
		termByName[strings.ToLower(ln.name)] = idx
		var as []string
		for _, a := range strings.Split(ln.rest, ",") {
			if a = strings.TrimSpace(a); a != "" {
				as = append(as, a)
			}
		}
		nameIsCS := false
		for _, a := range as {
			if (a[0] == '=' || a[0] == '!') && strings.EqualFold(a[1:], ln.name) {
				nameIsCS = true
			}
		}
		if !nameIsCS {
			as = append([]string{ln.name}, as...)
		}
		for _, a := range as {
			raws = append(raws, rawAlias{a, idx})
			if a[0] == '=' || a[0] == '!' {
				continue
			}
			for _, part := range strings.Fields(strings.ToLower(a)) {
				if strings.ContainsAny(part, ".-/+#&_") {
					wholeTokens[part] = true
				}
			}
		}
	}

	seen := map[string]int{}
	for _, ra := range raws {
		if ra.text[0] == '=' || ra.text[0] == '!' {
			exact := ra.text[1:]
			if strings.ContainsAny(exact, " \t") {
				return fmt.Errorf("case-sensitive alias %q must be one word", exact)
			}
			low := strings.ToLower(exact)
			csAliases[low] = append(csAliases[low], alias{keys: []string{low}, term: ra.term, exact: exact, strict: ra.text[0] == '!'})
			vocab[stem(low)] = true
			continue
		}
		keys := keysOf(ra.text)
		if len(keys) == 0 {
			return fmt.Errorf("alias %q has no words", ra.text)
		}
		k := strings.Join(keys, " ")
		if t, ok := seen[k]; ok {
			if t != ra.term {
				return fmt.Errorf("alias %q maps to both %q and %q", ra.text, terms[t].name, terms[ra.term].name)
			}
			continue
		}
		seen[k] = ra.term
		byFirst[keys[0]] = append(byFirst[keys[0]], alias{keys: keys, term: ra.term})
		for _, key := range keys {
			vocab[key] = true
		}
	}
	for k, list := range byFirst {
		sort.SliceStable(list, func(i, j int) bool {
			if len(list[i].keys) != len(list[j].keys) {
				return len(list[i].keys) > len(list[j].keys)
			}
			return list[i].term < list[j].term
		})
		byFirst[k] = list
	}

	for _, im := range implications {
		from, ok1 := termByName[strings.ToLower(im[0])]
		to, ok2 := termByName[strings.ToLower(im[1])]
		if !ok1 || !ok2 {
			return fmt.Errorf("implication %q → %q names an unknown term", im[0], im[1])
		}
		terms[from].implies = append(terms[from].implies, to)
	}
	return nil
}
