// Package reservations keeps the reservations an operator adds to a
// running server (through the control API) across restarts: a JSON file
// beside the lease store, replaced atomically after every change, read at
// start and applied to the engine once it is built.
//
// The file format is
//
//	{
//	  "version": 1,
//	  "reservations": [
//	    {"address": "198.18.0.50", "hw_addr": "02:00:00:00:00:50", "hostname": "printer"},
//	    {"address": "198.18.0.51", "client_id": "00:73:63:61:6e"}
//	  ]
//	}
//
// hw_addr and client_id are hex bytes, separated by ':' or '-' or not at
// all. An entry names its client by one of them (RFC 2132 §9.14 client
// identifier, else the hardware address); the engine checks the rest when
// the reservation is applied.
//
// It is not for the reservations of the configuration file (package
// config), and it decides nothing about addresses (package server does);
// it only reads and writes the file.
package reservations
