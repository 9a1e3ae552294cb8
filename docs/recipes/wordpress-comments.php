<?php
// WordPress: the article's comments in its own HTML (docs/server-rendering.md). In the theme's
// comments.php, in place of comments_template()'s list and form; set the service and site below.
$engagement_service = 'https://comments.example';
$engagement_site = 'news';

$engagement_answer = wp_remote_get(
    add_query_arg(
        array(
            'thread' => rawurlencode(wp_parse_url(get_permalink(), PHP_URL_PATH)),
            'url' => rawurlencode(get_permalink()),
            'title' => rawurlencode(get_the_title()),
            'lang' => rawurlencode(str_replace('_', '-', get_locale())),
        ),
        $engagement_service . '/api/v1/sites/' . rawurlencode($engagement_site) . '/comments.html'
    ),
    array('timeout' => 2)
);
if (!is_wp_error($engagement_answer) && wp_remote_retrieve_response_code($engagement_answer) === 200) {
    // The service's sanitized fragment: comment bodies were cleaned when written, the rest is escaped.
    echo wp_remote_retrieve_body($engagement_answer);
} else {
    // Slow or down: the widget loads the thread in the browser instead.
    printf('<div id="engagement-comments" data-site="%s"></div>', esc_attr($engagement_site));
}
printf('<script src="%s/widget.js" async></script>', esc_url($engagement_service));
