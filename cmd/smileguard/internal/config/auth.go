package config

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/smileguard/smileguard/middleware"
)

// maxCredentialFileBytes bounds a credential file.
const maxCredentialFileBytes = 1 << 20

// ReadCredentialLines reads a file of credentials, one a line; blank lines
// and lines starting with '#' are skipped, and surrounding spaces trimmed.
// Like a key file, it must not be open to anyone but its owner. Errors
// name the file and the line, never its content.
func ReadCredentialLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %04o; allow its owner only (chmod 600)", path, info.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCredentialFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxCredentialFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxCredentialFileBytes)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxCredentialFileBytes)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s holds no credential", path)
	}
	return lines, nil
}

// AuthConfig reads the credential files into a middleware.AuthConfig, nil
// if neither is given. Errors name the flag and the line, never a
// credential.
func AuthConfig(basicFile, bearerFile, realm string, source func(string) string, p *Problems) *middleware.AuthConfig {
	if basicFile == "" && bearerFile == "" {
		if realm != "" {
			p.Add("%s needs --auth-basic-file or --auth-bearer-file", source("auth-realm"))
		}
		return nil
	}
	cfg := &middleware.AuthConfig{Realm: realm}
	if basicFile != "" {
		lines, err := ReadCredentialLines(basicFile)
		if err != nil {
			p.Add("%s: %v", source("auth-basic-file"), err)
		}
		for i, line := range lines {
			user, password, ok := strings.Cut(line, ":")
			if !ok {
				p.Add("%s: credential %d has no colon: write user:password", source("auth-basic-file"), i+1)
				continue
			}
			cfg.Basic = append(cfg.Basic, middleware.BasicCredential{User: user, Password: password})
		}
	}
	if bearerFile != "" {
		lines, err := ReadCredentialLines(bearerFile)
		if err != nil {
			p.Add("%s: %v", source("auth-bearer-file"), err)
		}
		for _, line := range lines {
			cfg.Bearer = append(cfg.Bearer, middleware.BearerToken(line))
		}
	}
	if len(cfg.Basic)+len(cfg.Bearer) == 0 {
		return nil // the problems above say why
	}
	if _, err := middleware.NewCallbackAuth(*cfg); err != nil {
		// Its errors name the field (AuthConfig.Basic[1].Password), never
		// the credential.
		p.Add("--auth-basic-file, --auth-bearer-file: %v", err)
	}
	return cfg
}
