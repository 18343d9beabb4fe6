package config

import (
	"strings"
)

// or "" when none is close.
func suggest(key string, known []string) string {
	if len(key) > 64 {
		return ""
	}
	norm := strings.ToLower(strings.ReplaceAll(key, "_", "-"))
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(norm, k); dist < bestDist && dist < len(norm) {
			best, bestDist = k, dist
		}
	}
	if best == "" && len(norm) >= 3 {
		for _, k := range known {
			if strings.HasPrefix(k, norm) {
				best = k
				break
			}
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
