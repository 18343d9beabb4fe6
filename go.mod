module leased

go 1.26.0

require (
	github.com/insomniacslk/dhcp v0.0.0-20260901064844-234b97448fae // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
