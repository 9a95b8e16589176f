"""What every feature's pages share: page or fragment, lists, forms, paging, templating, errors, security headers."""
