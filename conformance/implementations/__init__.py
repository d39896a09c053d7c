"""How the code under test is found, called and isolated: loading a spec, an object or a command;
the forked or spawned worker and its private line format; the JSON-lines protocol; the contract's
wire format; capabilities; reading answers (exact numbers, untrusted JSON) without trusting them.
"""
