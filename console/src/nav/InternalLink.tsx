import type { AnchorHTMLAttributes, MouseEvent } from "react";
import { navigate } from "./location";

/** A link to a page of the console: followed without reloading the page, except where
 * the browser's own way is asked for (a new tab or window). */
export function InternalLink({ href, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  function follow(event: MouseEvent<HTMLAnchorElement>) {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    navigate(href);
  }
  return <a href={href} onClick={follow} {...rest} />;
}
