package config

// Check is a check of a valid configuration against what the file cannot
// say by itself, such as the interfaces and addresses of the host the
// server runs on. It returns the problems it finds, each naming the key at
// fault by its Path ("interfaces[1]", "subnets[0].pools[0]"), or nil.
// ParseChecked and LoadChecked give them the file and line of that key.
type Check func(c *Config) []*Error

// Join joins errs as Validate does: nil when there are none.
func Join(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	return joinErrors(errs)
}
