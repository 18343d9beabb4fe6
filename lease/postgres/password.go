package postgres

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// ReadPasswordFile returns the password in the file at path: its first
// line, without the line ending. An empty password is an error.
func ReadPasswordFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("postgres: password file: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("postgres: password file %s: empty", path)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("postgres: password file %s: the first line is empty", path)
	}
	return line, nil
}
